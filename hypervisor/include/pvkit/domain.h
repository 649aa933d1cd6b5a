/*
 * Domains and virtual CPUs.
 *
 * A domain owns machine frames (recorded in the frame table), a shared_info
 * page and its vCPUs. Its life: built (domain_build.c) -> running ->
 * shut down (by itself, with a reason) or crashed (killed by the hypervisor).
 * Once it is no longer running, none of its vCPUs is entered again; when no
 * domain is running any more, the machine powers off with the last domain's
 * reason as the exit status.
 */
#ifndef PVKIT_DOMAIN_H
#define PVKIT_DOMAIN_H

#include "pvkit/cpu.h"
#include "pvkit/xenabi.h"

#define MAX_DOMAINS         16
#define MAX_VCPUS_PER_DOM   1
#define NR_HYPERCALLS       64

enum domain_state { DOMAIN_RUNNING, DOMAIN_SHUTDOWN };

struct hypercall_stats {
    uint64_t calls[NR_HYPERCALLS];
    uint64_t errors[NR_HYPERCALLS];
    uint64_t unknown;           /* hypercall numbers we do not implement */
};

struct emulation_stats {
    uint64_t cpuid, rdmsr, wrmsr;
    uint64_t exceptions_fatal;
};

struct vcpu {
    struct domain *domain;
    unsigned int id;
    bool in_kernel;             /* guest kernel mode (else guest user mode) */
    uint64_t kernel_l4_mfn;     /* CR3 in guest kernel mode */
    uint64_t user_l4_mfn;       /* CR3 in guest user mode; 0 if none */
    uint64_t gs_base_user;      /* the inactive (user) GS base, swapped on mode changes */
    struct vcpu_info *vcpu_info;
    struct cpu_regs regs;       /* saved registers while not running */
};

struct domain {
    domid_t id;
    bool privileged;            /* may use privileged operations (dom0) */
    enum domain_state state;
    unsigned int shutdown_reason;       /* SHUTDOWN_* once not running */
    int shutdown_code;                  /* SCHEDOP_shutdown_code, or -1 */
    uint64_t nr_pages;
    uint64_t shared_info_mfn;
    struct shared_info *shared_info;
    bool console_at_line_start;
    unsigned int nr_vcpus;
    struct vcpu vcpus[MAX_VCPUS_PER_DOM];
    struct hypercall_stats hc_stats;
    struct emulation_stats emu_stats;
};

/* Allocates a domain slot with the given id; NULL if the id is taken or no slot is left. */
struct domain *domain_alloc(domid_t id);
/* Returns the running-or-not domain with this id, or NULL. */
struct domain *domain_find(domid_t id);
/* Releases a domain that never ran (a failed build), returning its frames. */
void domain_free(struct domain *d);

/* Stops a domain with a SHUTDOWN_* reason; it is never entered again. */
void domain_shutdown(struct domain *d, unsigned int reason);
/* Kills a domain the hypervisor cannot continue (reason SHUTDOWN_crash). */
void domain_crash(struct domain *d, const char *why, const struct cpu_regs *regs);

/*
 * Makes v the vCPU this CPU runs: loads its page tables and registers into
 * cpu_info.guest_regs. Call exit_to_guest() afterwards to enter it.
 */
void vcpu_load(struct vcpu *v);

/* Called on every exit to the guest; never returns if the current vCPU may not run. */
void prepare_exit_to_guest(struct cpu_regs *regs);

/* Prints per-domain statistics. */
void domain_print_stats(const struct domain *d);

#endif
