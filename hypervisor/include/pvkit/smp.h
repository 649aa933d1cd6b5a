/*
 * Several physical CPUs: per-CPU state, the hypervisor lock, the messages
 * CPUs send each other (IPIs) and the boot of the application processors.
 *
 * The concurrency model, all of it:
 *  - One lock, the hypervisor lock, guards every piece of hypervisor state
 *    (domains, vCPUs, frames and their types, event channels, timers,
 *    statistics). A CPU takes it on every entry from a guest and drops it at
 *    the very end of the exit path; the idle loop drops it while halted. The
 *    one exception: a kick that finds nothing to do but a TLB flush is served
 *    without it (arch/x86/entry.c).
 *    Guests run in parallel, the hypervisor on one CPU at a time. Memory the
 *    guests change concurrently (event bits, vcpu_info) is accessed with
 *    atomic operations, as on one CPU.
 *  - Interrupts are off whenever the hypervisor runs, except in the idle halt.
 *  - A CPU that must make others drop TLB entries (a guest's flush request,
 *    a frame changing type, frames given back) sends them a flush request and
 *    waits, holding the lock. A CPU waiting for the lock serves flush requests
 *    while it spins, so the holder's wait always ends. A CPU halted in the
 *    idle loop gets the request without a kick and serves it when it has the
 *    lock again, before it can run guest code.
 *  - A kick (IPI) makes a CPU that runs a guest enter the hypervisor, so its
 *    exit path delivers events and acts on scheduling decisions made on
 *    another CPU; a kick also wakes a CPU from its idle halt.
 *  - A vCPU is loaded on at most one CPU (vcpu.loaded, vcpu.cpu); only that
 *    CPU touches its live registers, FPU and segment state.
 */
#ifndef PVKIT_SMP_H
#define PVKIT_SMP_H

#include "pvkit/acpi.h"
#include "pvkit/cpu.h"

#define MAX_CPUS            8
#define KICK_VECTOR         0xf1    /* IPI: enter the hypervisor (events, scheduling, flushes) */

struct domain;

/*
 * Per-CPU counters. Only their own CPU writes them, some without the lock
 * (flushes_served and lock_contended, while it waits for the lock); other
 * CPUs read them for smp_print_stats. One writer, so each update is a relaxed
 * atomic load and store (cpu_stat_add), not a locked read-modify-write.
 */
struct cpu_stats {
    uint64_t kicks_sent;        /* IPIs this CPU sent */
    uint64_t flush_requests;    /* remote TLB flushes it asked for */
    uint64_t flushes_served;    /* remote TLB flushes it performed */
    uint64_t lock_contended;    /* lock acquisitions that had to wait */
    uint64_t idle_ns;           /* time halted in the idle loop */
    uint64_t timer_late_max_ns; /* longest delay from an armed deadline to its interrupt's work */
    uint64_t timers_late;       /* timer interrupts whose work ran >= TIMER_LATE_NS late */
    uint64_t lock_wait_max_ns;  /* longest wait for the hypervisor lock */
};

/*
 * A timer interrupt whose work runs this late (interrupts off or the lock
 * held that long, or the whole machine stopped by its host) is counted and
 * logged: guests see it as a stall.
 */
#define TIMER_LATE_NS 100000000ull /* 100 ms */

/*
 * One entry per physical CPU. The fields are grouped by what protects them;
 * a field's group says who may write it and who may read it when.
 */
struct percpu {
    /*
     * Set once as the CPU comes up (by the CPU itself; for CPU 0 by the
     * boot code) before `online` is published; read-only afterwards.
     */
    unsigned int id;            /* index in percpu[], also cpu_info.cpu_id */
    uint32_t apic_id;
    struct cpu_info *info;
    /* Published by the CPU with a release store; the boot CPU polls it (acquire). */
    bool online;

    /*
     * Hypervisor lock. Written only by this CPU, read by any CPU that holds
     * the lock. in_idle is set before the CPU drops the lock to halt and
     * cleared after it has taken it again, so while it is true its owner
     * cannot change it and a lock holder reads a settled value.
     */
    /* Whose page tables this CPU has loaded: its TLB may hold their entries. */
    struct domain *loaded_domain;
    bool in_idle;               /* halted in the idle loop, lock dropped */
    uint64_t slice_end;         /* system time the running vCPU's slice ends; 0: none */
    uint64_t timer_armed;       /* deadline the APIC timer is armed for; 0: none */

    /*
     * Written by other CPUs, or read without the lock: atomic accesses only
     * (cpu_need_resched / cpu_set_need_resched; __atomic_* on flush_request).
     * need_resched is set by any lock holder and cleared by this CPU under
     * the lock, and read without it by a kick (arch/x86/entry.c:
     * kick_served_without_lock). flush_request is set by a lock holder that
     * then waits for this CPU to clear it, which it does with or without the
     * lock (serve_flush_request).
     */
    bool need_resched;          /* schedule on the next exit to a guest */
    uint32_t flush_request;     /* another CPU wants our TLB flushed */

    /*
     * This CPU only, set by its timer interrupt while it halts in the idle
     * loop without the lock, consumed after it has the lock again
     * (idle_once, common/schedule.c): atomic accesses, as an interrupt writes it.
     */
    bool timer_pending;         /* the APIC timer fired while idle */
    /* Written by this CPU only, read by others: see struct cpu_stats. */
    struct cpu_stats stats;
};

extern struct percpu percpu[MAX_CPUS];
/* CPUs 0..nr_cpus_online-1 are up. Hypervisor lock (the boot CPU counts the APs while
 * it holds the lock they wait for). */
extern unsigned int nr_cpus_online;

static inline unsigned int this_cpu_id(void)
{
    return get_cpu_info()->cpu_id;
}

static inline struct percpu *this_cpu(void)
{
    return get_cpu_info()->percpu;
}

/* need_resched: set by any CPU, read by a kick without the lock (see struct percpu). */
static inline bool cpu_need_resched(const struct percpu *pc)
{
    return __atomic_load_n(&pc->need_resched, __ATOMIC_ACQUIRE);
}

static inline void cpu_set_need_resched(struct percpu *pc, bool value)
{
    __atomic_store_n(&pc->need_resched, value, __ATOMIC_RELEASE);
}

/* Adds n to one of this CPU's own counters (single writer, read by others). */
static inline void cpu_stat_add(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/*
 * The hypervisor lock, a ticket lock: CPUs get it in the order they asked
 * for it. Both counters are touched only with atomic operations, by CPUs
 * that do not hold the lock yet (next_ticket) or that wait for or release it
 * (now_serving, written only by the holder).
 */
struct hv_ticket {
    uint32_t next_ticket;
    uint32_t now_serving;
};
extern struct hv_ticket hv_ticket;

/*
 * hv_lock's wait for `ticket` to be served, serving flush requests
 * meanwhile; counts the wait.
 */
void hv_lock_wait(uint32_t ticket);
/*
 * Takes the hypervisor lock (fair: first come, first served). Inline, the
 * wait out of line: every entry from a guest takes it, almost always free.
 */
static inline void hv_lock(void)
{
    uint32_t ticket = __atomic_fetch_add(&hv_ticket.next_ticket, 1, __ATOMIC_RELAXED);

    if (__atomic_load_n(&hv_ticket.now_serving, __ATOMIC_ACQUIRE) != ticket)
        hv_lock_wait(ticket);
}
/* Drops it. Inline: every exit to a guest does. */
static inline void hv_unlock(void)
{
    /* Only the holder writes now_serving, so its own relaxed read is current. */
    uint32_t serving = __atomic_load_n(&hv_ticket.now_serving, __ATOMIC_RELAXED);
    __atomic_store_n(&hv_ticket.now_serving, serving + 1, __ATOMIC_RELEASE);
}

/* Registers the boot CPU (CPU 0) before anything else runs. */
void smp_init_boot_cpu(void);
/*
 * Reads the machine's processors, I/O APICs and HPET from ACPI into *out.
 * rsdp_phys: the physical address of an RSDP the boot loader gave, or 0.
 * The MADT is looked for from it first, then (none given, or no valid RSDP
 * and MADT behind it) from an RSDP found in the BIOS areas. It must still
 * hold the RSDP: pass boot_info's copy (boot_info.rsdp, in the hypervisor
 * image), not the loader's. False (and *out empty) if no MADT was found.
 */
bool smp_find_platform(uint64_t rsdp_phys, struct acpi_platform *out);
/*
 * Starts up to max_cpus - 1 of the application processors in cpus (from
 * smp_find_platform) and waits until each is online (in its idle loop,
 * waiting for the lock the caller holds). Called once, by the boot CPU,
 * with the lock held.
 */
void smp_boot_aps(unsigned int max_cpus, const struct acpi_platform *cpus);

/* Sends a kick to CPU `cpu` (not this one). */
void cpu_kick(unsigned int cpu);
/* Asks CPU `cpu` to schedule at its next exit to a guest, kicking it if remote. */
void cpu_raise_resched(unsigned int cpu);

/*
 * Flushes the non-global TLB entries of this CPU and of every other CPU that
 * has d's page tables loaded or a privileged domain's (which may map d's
 * frames), and returns once all have done so (CPUs halted in idle flush
 * before they next run a guest); then advances d->tlb_epoch. Lock held.
 */
void flush_tlb_domain(struct domain *d);
/* The same for every CPU running any guest (a translation another domain held). Lock held. */
void flush_tlb_all(void);
/* Serves a pending flush request for this CPU, if any. */
void serve_flush_request(void);

/* Prints per-CPU statistics. */
void smp_print_stats(void);

#endif
