/*
 * Several physical CPUs (see pvkit/smp.h for the concurrency model): the
 * hypervisor lock, kicks and remote TLB flushes, and the start of the
 * application processors (APs).
 *
 * AP start: the boot CPU finds the processors in the ACPI MADT, copies the
 * real-mode trampoline (arch/x86/boot.S) below 1 MiB and wakes one AP at a
 * time with INIT, SIPI, SIPI; the AP reaches long mode on the boot page
 * tables, sets up its own GDT, TSS, stack and local APIC (ap_start), says it
 * is online and joins the scheduler, waiting for the lock like any CPU.
 *
 * Invariants: percpu[i] describes the CPU whose cpu_info.cpu_id is i; an
 * entry is written only by its own CPU, except need_resched and
 * flush_request (requests from others, atomic); struct percpu in pvkit/smp.h
 * groups its fields by what protects them.
 */
#include "pvkit/acpi.h"
#include "pvkit/domain.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/x86.h"

#define ICR_INIT            0x00000500u
#define ICR_STARTUP         0x00000600u
#define ICR_LEVEL_ASSERT    0x00004000u
#define ICR_LEVEL_TRIGGER   0x00008000u
#define ICR_FIXED           0x00000000u
#define AP_ONLINE_TIMEOUT_NS 2000000000ull   /* TCG can be slow to start a CPU */

struct percpu percpu[MAX_CPUS];
unsigned int nr_cpus_online;

/* --- the hypervisor lock --------------------------------------------------- */

/* The hypervisor lock (pvkit/smp.h). */
struct hv_ticket hv_ticket;

void serve_flush_request(void)
{
    struct percpu *pc = this_cpu();
    if (!__atomic_load_n(&pc->flush_request, __ATOMIC_ACQUIRE))
        return;
    flush_tlb_local();
    cpu_stat_add(&pc->stats.flushes_served, 1);
    __atomic_store_n(&pc->flush_request, 0, __ATOMIC_RELEASE);
}

void hv_lock_wait(uint32_t ticket)
{
    struct cpu_stats *s = &this_cpu()->stats;
    uint64_t start = system_time_ns();
    cpu_stat_add(&s->lock_contended, 1);
    while (__atomic_load_n(&hv_ticket.now_serving, __ATOMIC_ACQUIRE) != ticket) {
        serve_flush_request();
        cpu_relax();
    }
    uint64_t waited = system_time_ns() - start;
    if (waited > s->lock_wait_max_ns)
        __atomic_store_n(&s->lock_wait_max_ns, waited, __ATOMIC_RELAXED);
}

/* --- kicks and flushes ----------------------------------------------------- */

/*
 * The kicked CPU reads what the kick is about (need_resched, flush_request,
 * a vCPU's state) once the IPI arrives. The fence makes the stores before
 * this call visible before the write to the APIC's ICR, whatever the
 * compiler inlines and however the APIC is reached (an uncached MMIO write
 * is ordered after them on x86 anyway; an x2APIC WRMSR would not be).
 */
void cpu_kick(unsigned int cpu)
{
    cpu_stat_add(&this_cpu()->stats.kicks_sent, 1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    apic_send_ipi(percpu[cpu].apic_id, ICR_FIXED | KICK_VECTOR);
}

void cpu_raise_resched(unsigned int cpu)
{
    cpu_set_need_resched(&percpu[cpu], true);
    if (cpu != this_cpu_id())
        cpu_kick(cpu);
}

/* May CPU c hold TLB entries through which d's frames are reachable? */
static bool may_cache(const struct percpu *c, const struct domain *d)
{
    return c->loaded_domain && (c->loaded_domain == d || c->loaded_domain->privileged);
}

/*
 * A CPU halted in the idle loop runs no guest code until it has the lock
 * again, and it serves its flush request as soon as it has (idle_once): it
 * gets the request without an IPI and without a wait.
 */
/* Flushes this CPU and every other CPU for which caches(cpu) holds; waits for them. */
static void flush_cpus(bool (*caches)(const struct percpu *c, const struct domain *d),
                       const struct domain *d)
{
    unsigned int self = this_cpu_id();
    bool asked[MAX_CPUS] = { false };

    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        if (c == self || !caches(&percpu[c], d))
            continue;
        __atomic_store_n(&percpu[c].flush_request, 1, __ATOMIC_RELEASE);
        cpu_stat_add(&percpu[self].stats.flush_requests, 1);
        if (percpu[c].in_idle)
            continue;
        cpu_kick(c);
        asked[c] = true;
    }
    flush_tlb_local();
    for (unsigned int c = 0; c < nr_cpus_online; c++)
        while (asked[c] && __atomic_load_n(&percpu[c].flush_request, __ATOMIC_ACQUIRE))
            cpu_relax();
}

void flush_tlb_domain(struct domain *d)
{
    flush_cpus(may_cache, d);
    d->tlb_epoch++; /* idle CPUs asked above flush before they next run a guest */
}

/* Any CPU running a guest may hold any translation. */
static bool runs_a_guest(const struct percpu *c, const struct domain *d)
{
    (void)d;
    return c->loaded_domain != NULL;
}

void flush_tlb_all(void)
{
    flush_cpus(runs_a_guest, NULL);
}

/* --- starting the application processors ----------------------------------- */

extern char ap_trampoline[], ap_trampoline_end[];
extern char ap_trampoline_stack[], ap_trampoline_cr3[], ap_trampoline_efer[];
extern uint64_t boot_l4[];

static uint8_t ap_stacks[MAX_CPUS - 1][STACK_SIZE]
    __attribute__((aligned(STACK_SIZE), section(".bss.stack")));

/*
 * The CPU ap_start() is bringing up, one at a time: written by the boot CPU
 * (holding the lock) before the INIT/SIPI sequence, read without the lock
 * by the AP it wakes: atomic accesses, ordered by the fence before the IPIs.
 */
static unsigned int ap_starting;

void smp_init_boot_cpu(void)
{
    percpu[0].id = 0;
    percpu[0].info = get_cpu_info();
    percpu[0].apic_id = apic_self_id();
    percpu[0].online = true;
    nr_cpus_online = 1;
}

void ap_start(void);

/* C entry of an application processor, on its own stack (from boot.S). */
void ap_start(void)
{
    unsigned int cpu = __atomic_load_n(&ap_starting, __ATOMIC_ACQUIRE);
    struct cpu_info *ci = cpu_info_of_stack(ap_stacks[cpu - 1]);

    cpu_init(cpu, ci);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(virt_to_phys(idle_l4));
    apic_init_cpu();
    percpu[cpu].id = cpu;
    percpu[cpu].info = ci;
    percpu[cpu].apic_id = apic_self_id();
    __atomic_store_n(&percpu[cpu].online, true, __ATOMIC_RELEASE);
    hv_lock();
    exit_to_guest(); /* schedules: runs a vCPU, or idles until one is runnable */
}

static void delay_ns(uint64_t ns)
{
    uint64_t end = system_time_ns() + ns;
    while (system_time_ns() < end)
        cpu_relax();
}

/* ACPI tables sit in reserved memory just above the last RAM: the direct map covers
 * everything up to the 2 MiB boundary above it (mm/paging.c). */
static const void *acpi_reader(uint64_t phys, uint64_t len)
{
    uint64_t mapped = ALIGN_UP(frame_table.nr_frames << PAGE_SHIFT, L2_PAGE_SIZE);
    if (phys >= mapped || len > mapped - phys)
        return NULL;
    return phys_to_virt(phys);
}

/* Sends INIT, SIPI, SIPI to apic_id and waits for CPU `cpu` to come online. */
static bool start_ap(unsigned int cpu, uint32_t apic_id)
{
    uint8_t *tramp = phys_to_virt(AP_TRAMPOLINE_PHYS);
    uint64_t stack = (uint64_t)cpu_info_of_stack(ap_stacks[cpu - 1]);

    *(uint64_t *)(tramp + (ap_trampoline_stack - ap_trampoline)) = stack;
    __atomic_store_n(&ap_starting, cpu, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    apic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_TRIGGER | ICR_LEVEL_ASSERT);
    delay_ns(10000000);
    apic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_TRIGGER);
    for (unsigned int i = 0; i < 2; i++) {
        apic_send_ipi(apic_id, ICR_STARTUP | (AP_TRAMPOLINE_PHYS >> PAGE_SHIFT));
        delay_ns(200000);
    }
    uint64_t deadline = system_time_ns() + AP_ONLINE_TIMEOUT_NS;
    while (!__atomic_load_n(&percpu[cpu].online, __ATOMIC_ACQUIRE)) {
        if (system_time_ns() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

bool smp_find_platform(uint64_t rsdp_phys, struct acpi_platform *out)
{
    int found = -1;

    /* The loader's RSDP copy first (the only one on UEFI), then the BIOS areas. */
    if (rsdp_phys) {
        found = acpi_scan_from_rsdp(acpi_reader, rsdp_phys, out);
        if (found)
            printk(LOG_WARN, "(pvkit) smp: no valid RSDP or MADT at the boot loader's RSDP "
                   "0x%lx: searching the BIOS areas\n", (unsigned long)rsdp_phys);
        else
            printk(LOG_DEBUG, "(pvkit) smp: MADT found from the boot loader's RSDP 0x%lx\n",
                   (unsigned long)rsdp_phys);
    }
    if (found && acpi_scan(acpi_reader, out)) {
        printk(LOG_WARN, "(pvkit) smp: no ACPI MADT found: running on one CPU\n");
        return false;
    }
    return true;
}

void smp_boot_aps(unsigned int max_cpus, const struct acpi_platform *cpus)
{
    if (max_cpus > MAX_CPUS)
        max_cpus = MAX_CPUS;
    if (max_cpus <= 1 || !cpus->count)
        return;
    uint8_t *tramp = phys_to_virt(AP_TRAMPOLINE_PHYS);
    memcpy(tramp, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    *(uint32_t *)(tramp + (ap_trampoline_cr3 - ap_trampoline)) =
        (uint32_t)virt_to_phys(boot_l4);
    *(uint32_t *)(tramp + (ap_trampoline_efer - ap_trampoline)) =
        (uint32_t)(rdmsr(MSR_EFER) & ~(1u << 10) /* LMA is read-only */);

    for (unsigned int i = 0; i < cpus->count && nr_cpus_online < max_cpus; i++) {
        uint32_t apic_id = cpus->apic_id[i];
        if (apic_id == percpu[0].apic_id)
            continue;
        if (apic_id > 0xff) {
            printk(LOG_WARN, "(pvkit) smp: APIC ID %u needs x2APIC: CPU skipped\n", apic_id);
            continue;
        }
        unsigned int cpu = nr_cpus_online;
        if (!start_ap(cpu, apic_id)) {
            /* It may still start late, on the stack we gave it: start no other. */
            printk(LOG_WARN, "(pvkit) smp: CPU with APIC ID %u did not start\n", apic_id);
            break;
        }
        nr_cpus_online++;
    }
    printk(LOG_INFO, "(pvkit) smp: %u CPU%s online (%u in the MADT)\n", nr_cpus_online,
           nr_cpus_online == 1 ? "" : "s", cpus->count);
}

void smp_print_stats(void)
{
    for (unsigned int c = 0; c < nr_cpus_online; c++) {
        const struct cpu_stats *s = &percpu[c].stats;
        /* Other CPUs may be counting while we read (see struct cpu_stats). */
        uint64_t kicks = __atomic_load_n(&s->kicks_sent, __ATOMIC_RELAXED);
        uint64_t requests = __atomic_load_n(&s->flush_requests, __ATOMIC_RELAXED);
        uint64_t served = __atomic_load_n(&s->flushes_served, __ATOMIC_RELAXED);
        uint64_t waits = __atomic_load_n(&s->lock_contended, __ATOMIC_RELAXED);
        uint64_t idle = __atomic_load_n(&s->idle_ns, __ATOMIC_RELAXED);
        uint64_t late_max = __atomic_load_n(&s->timer_late_max_ns, __ATOMIC_RELAXED);
        uint64_t late = __atomic_load_n(&s->timers_late, __ATOMIC_RELAXED);
        uint64_t wait_max = __atomic_load_n(&s->lock_wait_max_ns, __ATOMIC_RELAXED);
        printk(LOG_INFO, "(pvkit) cpu%u: kicks sent %lu, flush requests %lu, flushes served "
               "%lu, lock waits %lu (max %lu us), idle %lu ms, timer late max %lu us, "
               "%lu >= 100 ms\n", c, (unsigned long)kicks, (unsigned long)requests,
               (unsigned long)served, (unsigned long)waits, (unsigned long)(wait_max / 1000),
               (unsigned long)(idle / 1000000), (unsigned long)(late_max / 1000),
               (unsigned long)late);
    }
}
