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
 *    without it (arch/x86/traps.c).
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

struct cpu_stats {
    uint64_t kicks_sent;        /* IPIs this CPU sent */
    uint64_t flush_requests;    /* remote TLB flushes it asked for */
    uint64_t flushes_served;    /* remote TLB flushes it performed */
    uint64_t lock_contended;    /* lock acquisitions that had to wait */
    uint64_t idle_ns;           /* time halted in the idle loop */
};

struct percpu {
    unsigned int id;            /* index in percpu[], also cpu_info.cpu_id */
    uint32_t apic_id;
    bool online;
    struct cpu_info *info;
    /* Whose page tables this CPU has loaded: its TLB may hold their entries. */
    struct domain *loaded_domain;
    bool need_resched;          /* schedule on the next exit to a guest */
    bool in_idle;               /* halted in the idle loop, lock dropped */
    bool timer_pending;         /* the APIC timer fired while idle */
    uint64_t slice_end;         /* system time the running vCPU's slice ends; 0: none */
    uint64_t timer_armed;       /* deadline the APIC timer is armed for; 0: none */
    uint32_t flush_request;     /* another CPU wants our TLB flushed (atomic) */
    struct cpu_stats stats;
};

extern struct percpu percpu[MAX_CPUS];
extern unsigned int nr_cpus_online;

static inline unsigned int this_cpu_id(void)
{
    return get_cpu_info()->cpu_id;
}

static inline struct percpu *this_cpu(void)
{
    return &percpu[this_cpu_id()];
}

/* Takes / drops the hypervisor lock (fair: first come, first served). */
void hv_lock(void);
void hv_unlock(void);

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
