/*
 * The PVH domain builder: from an ELF kernel with XEN_ELFNOTE_PHYS32_ENTRY
 * to a domain whose vCPU 0 starts there in 32-bit protected mode with EBX
 * pointing at an hvm_start_info (xen/arch-x86/hvm/start_info.h).
 *
 * Guest-physical layout (docs/abi.md, "PVH domains"): RAM from 0 to the
 * domain's size, the memory map's first range; right above it three
 * pages, the map's second range (reserved): the xenstore page and the
 * console ring (HVM_PARAM_STORE_PFN, HVM_PARAM_CONSOLE_PFN; the hypervisor
 * serves the ring as a PV domU's), then the ACPI tables (common/acpi_build.c,
 * hvm_start_info.rsdp_paddr: the MADT is how the kernel finds its x2APIC). The kernel's PT_LOAD
 * segments at their physical addresses (p_paddr - PADDR_OFFSET); after the
 * image, page-aligned: one page with hvm_start_info, the memory map and
 * the module list, one page with the command line, then the initrd.
 *
 * Invariants left behind: every guest frame is owned by the domain and
 * mapped once, in the nested tables (mm/npt.c: hypervisor frames); the
 * domain has a shared_info frame like a PV domain (events and time are
 * kept there; the guest maps it with add_to_physmap); vCPU 0 has a VMCB. A
 * build that fails leaves nothing behind (domain_free).
 */
#include "pvkit/domain_build.h"
#include "pvkit/acpi.h"
#include "pvkit/console.h"
#include "pvkit/context.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/svm.h"
#include "pvkit/time.h"
#include <xen/arch-x86/hvm/start_info.h>

#define PVH_MEMMAP_RAM      1
#define PVH_MEMMAP_RESERVED 2
/* The pages above RAM: the xenstore page, the console ring, the ACPI tables. */
#define PVH_SPECIAL_PAGES   3
#define PVH_ACPI_PAGE       2

/* Copies an image's bytes to guest-physical pa of d (inside its memory). */
static int copy_to_gpa(struct domain *d, uint64_t pa, const struct image_src *img,
                       uint64_t off, uint64_t n)
{
    while (n) {
        uint64_t in_page = pa & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - in_page);
        int64_t mfn = npt_lookup(d, pa >> PAGE_SHIFT);
        if (mfn < 0)
            return -XEN_EINVAL;
        if (img->read(img, off, (uint8_t *)mfn_to_virt((uint64_t)mfn) + in_page, chunk))
            return -XEN_EFAULT;
        pa += chunk;
        off += chunk;
        n -= chunk;
    }
    return 0;
}

/* pv_kernel_load's callback: the file part of a segment (its rest is still zero). */
static int load_segment(uint64_t pa, const struct image_src *img, uint64_t offset,
                        uint64_t filesz, uint64_t memsz, void *ctx)
{
    (void)memsz;
    return copy_to_gpa(ctx, pa, img, offset, filesz);
}

/* The hypervisor's pointer to guest-physical page gfn of d (mapped: the builder made it). */
static void *gpa_page(struct domain *d, uint64_t gfn)
{
    return mfn_to_virt((uint64_t)npt_lookup(d, gfn));
}

/* Gives d nr_pages zeroed frames at guest-physical 0.. and maps them. 0 or -errno. */
static int populate_memory(struct domain *d, uint64_t nr_pages)
{
    int rc = npt_create(d);
    for (uint64_t gfn = 0; !rc && gfn < nr_pages; gfn++) {
        int64_t mfn = alloc_zeroed_frame(d->id);
        if (mfn < 0)
            return -XEN_ENOMEM;
        m2p_set((uint64_t)mfn, gfn);
        rc = npt_map(d, gfn, (uint64_t)mfn);
    }
    return rc;
}

/* Where the boot information goes: page numbers after the kernel image. */
struct pvh_layout {
    uint64_t info_gfn, cmdline_gfn, initrd_gfn, end_gfn;
};

static void write_start_info(struct domain *d, const struct domain_config *cfg,
                             const struct pvh_layout *l, uint64_t nr_pages)
{
    uint8_t *page = gpa_page(d, l->info_gfn);
    struct hvm_start_info *si = (struct hvm_start_info *)page;
    struct hvm_memmap_table_entry *map = (void *)(page + 128);
    struct hvm_modlist_entry *mod = (void *)(page + 256);
    uint64_t base = l->info_gfn << PAGE_SHIFT;

    si->magic = XEN_HVM_START_MAGIC_VALUE;
    si->version = 1;
    si->cmdline_paddr = l->cmdline_gfn << PAGE_SHIFT;
    si->memmap_paddr = base + 128;
    si->rsdp_paddr = (nr_pages + PVH_ACPI_PAGE) << PAGE_SHIFT;
    si->memmap_entries = 2;
    map[0] = (struct hvm_memmap_table_entry){ .addr = 0, .size = nr_pages << PAGE_SHIFT,
                                              .type = PVH_MEMMAP_RAM };
    map[1] = (struct hvm_memmap_table_entry){ .addr = nr_pages << PAGE_SHIFT,
                                              .size = PVH_SPECIAL_PAGES << PAGE_SHIFT,
                                              .type = PVH_MEMMAP_RESERVED };
    if (cfg->initrd) {
        si->nr_modules = 1;
        si->modlist_paddr = base + 256;
        mod->paddr = l->initrd_gfn << PAGE_SHIFT;
        mod->size = cfg->initrd->size;
    }
    strlcpy(gpa_page(d, l->cmdline_gfn), cfg->cmdline ? cfg->cmdline : "", MAX_GUEST_CMDLINE);
}

/* Checks what a PVH domain needs; fills *k and *l. 0, or -errno with *why. */
static int check_pvh_config(const struct domain_config *cfg, struct pv_kernel_info *k,
                            struct pvh_layout *l, const char **why)
{
    uint64_t nr_pages = cfg->mem_bytes >> PAGE_SHIFT;
    int rc = pv_kernel_parse(cfg->kernel, k, why);
    if (rc)
        return rc;
    *why = "";
    if (!k->has_phys32_entry)
        *why = "no XEN_ELFNOTE_PHYS32_ENTRY: not a PVH kernel";
    else if (cfg->privileged)
        *why = "a PVH domain cannot be the privileged domain (yet)";
    else if (cfg->nr_vcpus > 1)
        *why = "a PVH domain has one vCPU (for now)";
    else if (cfg->mem_bytes % PAGE_SIZE || nr_pages + PVH_SPECIAL_PAGES > PVH_MAX_GFNS)
        *why = "memory not whole pages, or above 3 GiB";
    if (**why)
        return -XEN_EINVAL;
    l->info_gfn = ALIGN_UP(k->pend, PAGE_SIZE) >> PAGE_SHIFT;
    l->cmdline_gfn = l->info_gfn + 1;
    l->initrd_gfn = l->cmdline_gfn + 1;
    l->end_gfn = l->initrd_gfn + (cfg->initrd ? ALIGN_UP(cfg->initrd->size, PAGE_SIZE) >> PAGE_SHIFT : 0);
    if (l->end_gfn > nr_pages) {
        *why = "memory too small for the kernel and its boot information";
        return -XEN_ENOMEM;
    }
    if (nr_pages + PVH_SPECIAL_PAGES > frame_table.nr_free) {
        *why = "not enough free memory";
        return -XEN_ENOMEM;
    }
    return 0;
}

static void setup_vcpu0(struct domain *d)
{
    struct vcpu *v = &d->vcpus[0];
    d->nr_vcpus = 1;
    v->domain = d;
    v->id = 0;
    vcpu_set_state(v, VCPU_RUNNABLE);
    v->initialised = true;
    fpu_init_state(v);
    v->vcpu_info = &d->shared_info->vcpu_info[0];
    /* A PVH vCPU has no upcall mask (svm.c: RFLAGS.IF masks the callback vector). */
    v->vcpu_info->evtchn_upcall_mask = 0;
    vlapic_reset(v);
    v->runstate.state = RUNSTATE_runnable;
    v->runstate.state_entry_time = system_time_ns();
}

/*
 * The pages above RAM (from gfn `first`): the store page, with an unbound
 * port for dom0 if cfg asks, the console ring the hypervisor serves, the
 * ACPI tables. 0 or -errno (the caller frees d).
 */
static int setup_special_pages(struct domain *d, const struct domain_config *cfg, uint64_t first)
{
    d->store_gfn = first;
    d->store_mfn = (uint64_t)npt_lookup(d, first);
    if (cfg->store_channel) {
        int port = evtchn_alloc_unbound_port(d, 0);
        if (port < 0)
            return port;
        d->store_port = (unsigned int)port;
    }
    int rc = console_ring_attach(d, (uint64_t)npt_lookup(d, first + 1));
    if (rc < 0)
        return rc;
    if (acpi_build_pvh_tables(gpa_page(d, first + PVH_ACPI_PAGE),
                              (first + PVH_ACPI_PAGE) << PAGE_SHIFT, cfg->nr_vcpus))
        return -XEN_EINVAL;
    d->console_gfn = first + 1;
    return 0;
}

/* Everything after the checks; on failure the caller frees d. */
static int build(struct domain *d, const struct domain_config *cfg,
                 const struct pv_kernel_info *k, const struct pvh_layout *l)
{
    uint64_t nr_pages = cfg->mem_bytes >> PAGE_SHIFT;
    int rc;

    if ((rc = domain_setup_shared_info(d)) || (rc = grant_table_create(d)) ||
        (rc = populate_memory(d, nr_pages + PVH_SPECIAL_PAGES)) ||
        (rc = pv_kernel_load(cfg->kernel, k, load_segment, d)) ||
        (rc = setup_special_pages(d, cfg, nr_pages)))
        return rc;
    if (cfg->initrd &&
        (rc = copy_to_gpa(d, l->initrd_gfn << PAGE_SHIFT, cfg->initrd, 0, cfg->initrd->size)))
        return rc;
    write_start_info(d, cfg, l, nr_pages);
    setup_vcpu0(d);
    return svm_vcpu_create(&d->vcpus[0], k->phys32_entry, (uint32_t)(l->info_gfn << PAGE_SHIFT));
}

int pvh_domain_build(const struct domain_config *cfg, struct domain **out)
{
    struct pv_kernel_info k;
    struct pvh_layout l;
    const char *why = "";
    int rc;

    if (!svm_available()) {
        printk(LOG_ERR, "(pvkit) d%u: PVH domain refused: the CPU has no SVM with nested "
               "paging\n", cfg->id);
        return -XEN_ENODEV;
    }
    if ((rc = check_pvh_config(cfg, &k, &l, &why))) {
        printk(LOG_ERR, "(pvkit) d%u: PVH kernel refused: %s\n", cfg->id, why);
        return rc;
    }
    struct domain *d = domain_alloc(cfg->id);
    if (!d) {
        printk(LOG_ERR, "(pvkit) d%u: no domain slot free, or the id is taken\n", cfg->id);
        return -XEN_ENOSPC;
    }
    d->type = DOMAIN_PVH;
    d->nr_pages = d->max_pages = (cfg->mem_bytes >> PAGE_SHIFT) + PVH_SPECIAL_PAGES;
    if ((rc = build(d, cfg, &k, &l))) {
        printk(LOG_ERR, "(pvkit) d%u: PVH build failed (%d)\n", cfg->id, rc);
        domain_free(d);
        return rc;
    }
    printk(LOG_INFO, "(pvkit) d%u: PVH %s kernel, entry %x, %lu MiB, start_info %lx\n",
           d->id, k.guest_os[0] ? k.guest_os : "", k.phys32_entry,
           (unsigned long)(d->nr_pages >> 8), (unsigned long)(l.info_gfn << PAGE_SHIFT));
    *out = d;
    return 0;
}
