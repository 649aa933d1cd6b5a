/*
 * start_hypervisor(): the boot sequence, from the loader's hand-off to the
 * first instruction of the initial domain. A guided reading order of the
 * hypervisor starts here (hypervisor/README.md has the whole order).
 *
 *   loader info -> console -> options -> CPU tables -> memory -> time
 *   -> domains -> other CPUs -> run
 *
 * The initial domain (domain 0, privileged; or domain 1, unprivileged, with
 * initial_domain=domU) is built from multiboot module 1 with module 2 as its
 * initrd, as under Xen; domU= options add further domains from other modules.
 */
#include "pvkit/audit.h"
#include "pvkit/domain_build.h"
#include "pvkit/mm.h"
#include "pvkit/sched.h"
#include "pvkit/smp.h"
#include "pvkit/svm.h"
#include "pvkit/time.h"
#include "pvkit/x86.h"

#define DEFAULT_SERIAL_PORT 0x3f8
#define HV_RESERVE_BYTES    (16ull << 20)

/* Filled by the boot CPU before the APs start; read-only afterwards. */
char hypervisor_cmdline[BOOT_CMDLINE_MAX];
static struct boot_info boot_info;

const struct boot_info *boot_information(void)
{
    return &boot_info;
}
/* The command line's options: parsed at boot, before the APs start; read-only afterwards. */
static struct hv_options options = {
    .serial_port = DEFAULT_SERIAL_PORT,
    .loglvl = LOG_INFO,
};

static const void *boot_phys_reader(uint64_t phys)
{
    return phys_to_virt(phys);
}

static void report_bad_option(const char *word, size_t len)
{
    printk(LOG_WARN, "(pvkit) ignoring unknown or malformed option '%.*s'\n", (int)len, word);
}

static void parse_options(void)
{
    /* Loaders put the image's own file name first (QEMU and GRUB alike). */
    strlcpy(hypervisor_cmdline, cmdline_skip_first_word(boot_info.cmdline),
            sizeof(hypervisor_cmdline));
    /* Parse quietly to learn the console settings, then for real to report. */
    struct hv_options defaults = options;
    cmdline_parse(hypervisor_cmdline, &options, NULL);
    console_init(options.serial_port);
    console_set_level(options.loglvl);
    options = defaults;
    cmdline_parse(hypervisor_cmdline, &options, report_bad_option);
    audit_set_on_death(options.audit_on_death);
}

static uint64_t dom0_memory(void)
{
    uint64_t free_bytes = frame_table.nr_free << PAGE_SHIFT;
    for (unsigned int i = 0; i < options.nr_domus; i++)
        free_bytes -= MIN(free_bytes, options.domus[i].mem_bytes);
    uint64_t want = options.dom0_mem;
    if (!want)
        want = free_bytes > 2 * HV_RESERVE_BYTES ? free_bytes - HV_RESERVE_BYTES : free_bytes / 2;
    return ALIGN_DOWN(want, PAGE_SIZE);
}

/* A boot module as an image source (an empty one for NULL). */
static struct image_src module_image(const struct boot_module *m)
{
    return m ? image_in_memory(phys_to_virt(m->start), m->end - m->start)
             : image_in_memory(NULL, 0);
}

static struct domain *build_dom0(void)
{
    if (boot_info.nr_modules == 0) {
        printk(LOG_ERR, "(pvkit) no initial domain: pass its kernel as the first "
               "multiboot module (QEMU: -initrd \"kernel args\")\n");
        return NULL;
    }
    const struct boot_module *kernel = &boot_info.modules[0];
    /* Module 2 is the initial domain's initrd unless a domU= claims it. */
    bool module2_free = boot_info.nr_modules > 1;
    for (unsigned int i = 0; i < options.nr_domus; i++)
        if (options.domus[i].kernel_module == 2 || options.domus[i].initrd_module == 2)
            module2_free = false;
    const struct boot_module *initrd = module2_free ? &boot_info.modules[1] : NULL;
    struct image_src kernel_src = module_image(kernel), initrd_src = module_image(initrd);
    struct domain *d0 = NULL;
    struct domain_config cfg = {
        .id = options.initial_domain_unprivileged ? 1 : 0,
        .type = options.initial_domain_pvh ? DOMAIN_PVH : DOMAIN_PV,
        .privileged = !options.initial_domain_unprivileged,
        .mem_bytes = dom0_memory(),
        .nr_vcpus = options.dom0_vcpus ? options.dom0_vcpus : 1,
        .kernel = &kernel_src,
        .initrd = initrd ? &initrd_src : NULL,
        .cmdline = kernel->cmdline,
    };
    domain_build(&cfg, &d0);
    return d0;
}

/* Builds the domU= domains; one that cannot be built is reported and skipped. */
static void build_boot_domus(domid_t first_id)
{
    for (unsigned int i = 0; i < options.nr_domus; i++) {
        const struct domu_spec *s = &options.domus[i];
        if (s->kernel_module > boot_info.nr_modules ||
            s->initrd_module > boot_info.nr_modules) {
            printk(LOG_ERR, "(pvkit) domU=%u: no such boot module\n", s->kernel_module);
            continue;
        }
        const struct boot_module *k = &boot_info.modules[s->kernel_module - 1];
        const struct boot_module *ird =
            s->initrd_module ? &boot_info.modules[s->initrd_module - 1] : NULL;
        struct image_src kernel_src = module_image(k), initrd_src = module_image(ird);
        struct domain *d;
        struct domain_config cfg = {
            .id = (domid_t)(first_id + i),
            .type = s->pvh ? DOMAIN_PVH : DOMAIN_PV,
            .privileged = false,
            .mem_bytes = ALIGN_DOWN(s->mem_bytes, PAGE_SIZE),
            .nr_vcpus = s->vcpus,
            .kernel = &kernel_src,
            .initrd = ird ? &initrd_src : NULL,
            .cmdline = k->cmdline,
        };
        domain_build(&cfg, &d);
    }
}

/* Makes the page at physical address pa read-only to the privileged domain. */
static int restrict_page(uint64_t pa)
{
    return frames_restrict_io(&frame_table, pa >> PAGE_SHIFT, (pa >> PAGE_SHIFT) + 1,
                              IO_ACCESS_RO);
}

/*
 * Keeps the frames the hypervisor drives, or that reach every CPU, from the
 * privileged domain, as Xen keeps them from dom0: the local APIC and the MSI
 * address window not at all; the I/O APICs and the HPET read-only (at the
 * PC's usual addresses when ACPI did not say where they are).
 */
static void restrict_platform_frames(const struct acpi_platform *p, bool from_acpi)
{
    const uint64_t default_ioapic = 0xFEC00000, default_hpet = 0xFED00000;
    int rc = frames_restrict_io(&frame_table, LAPIC_PHYS >> PAGE_SHIFT,
                                (LAPIC_PHYS + MSI_WINDOW_SIZE) >> PAGE_SHIFT, IO_ACCESS_NONE);

    for (unsigned int i = 0; i < p->nr_ioapics; i++)
        rc |= restrict_page(p->ioapic_phys[i]);
    if (p->hpet_phys)
        rc |= restrict_page(p->hpet_phys);
    if (!from_acpi)
        rc |= restrict_page(default_ioapic) | restrict_page(default_hpet);
    if (rc)
        panic("too many device ranges to keep from the domains");
}

void start_hypervisor(uint32_t magic, uint32_t info_phys);
extern char cpu0_stack[]; /* arch/x86/boot.S */

void start_hypervisor(uint32_t magic, uint32_t info_phys)
{
    console_init(DEFAULT_SERIAL_PORT);
    if (multiboot_parse(magic, info_phys, boot_phys_reader, &boot_info))
        panic("not started by a multiboot loader, or no memory map (magic %x)", magic);
    parse_options();
    printk(LOG_INFO, "(pvkit) pvkit hypervisor, Xen PV ABI %u.%u, started by %s\n", 4, 17,
           boot_info.loader);
    printk(LOG_INFO, "(pvkit) command line: %s\n", hypervisor_cmdline);

    svm_detect();
    cpu_init(0, cpu_info_of_stack(cpu0_stack));
    mm_init(&boot_info);
    time_init();
    smp_init_boot_cpu();
    static struct acpi_platform platform;
    bool from_acpi = smp_find_platform(boot_info.rsdp_phys ? virt_to_phys(boot_info.rsdp) : 0,
                                       &platform);
    restrict_platform_frames(&platform, from_acpi);
    hv_lock(); /* held from here to the first exit to a guest */

    struct domain *dom0 = build_dom0();
    if (!dom0) {
        printk(LOG_ERR, "(pvkit) no domain to run: machine off\n");
        machine_exit(EXIT_CRASH);
    }
    build_boot_domus(dom0->id + 1);
    console_set_focus(dom0->id);
    smp_boot_aps(options.max_cpus ? options.max_cpus : MAX_CPUS, &platform);
    schedule_first_vcpu(&dom0->vcpus[0]);
    exit_to_guest();
}
