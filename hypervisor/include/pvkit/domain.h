/*
 * Domains and virtual CPUs: struct domain and struct vcpu, their fields
 * grouped by what protects them, and the domain life cycle (common/domain.c).
 * What else happens to a vCPU has its own header: scheduling (sched.h),
 * runstate and time information (vcpu.h), timers (timer.h), the context
 * switch (context.h).
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

#include "pvkit/grant.h"
#include "pvkit/cpu.h"
#include "pvkit/event.h"
#include "pvkit/stats.h"
#include "pvkit/vlapic.h"
#include "pvkit/xenabi.h"

#define MAX_DOMAINS         16
#define MAX_VCPUS_PER_DOM   8
#define MAX_POLL_PORTS      128 /* as Xen */

/* RUNNING -> SHUTDOWN (it asked, or crashed) -> DYING (destroyed: domain_destroy.c) -> freed. */
enum domain_state { DOMAIN_RUNNING, DOMAIN_SHUTDOWN, DOMAIN_DYING };

/* A guest callback: where to enter the guest kernel, and whether to mask events. */
struct guest_callback {
    uint64_t address;           /* 0: not registered */
    bool mask_events;
};

enum vcpu_state {
    VCPU_DOWN,                  /* not started, or taken down (VCPUOP_down) */
    VCPU_RUNNABLE,              /* running, or waiting for the CPU */
    VCPU_BLOCKED,               /* waiting for an event (block, poll) */
};

/*
 * The fields of struct vcpu and struct domain are grouped by what protects
 * them (pvkit/smp.h has the concurrency model). In short: everything is
 * guarded by the hypervisor lock; the few fields a kick reads without it are
 * written with vcpu_set_state / domain_set_state or __atomic stores; and a
 * loaded vCPU's live CPU state is touched only by the CPU it is loaded on.
 */
struct vcpu {
    /* Set when the domain is built; read-only afterwards. */
    struct domain *domain;
    unsigned int id;

    /*
     * Hypervisor lock for writers; also read without it by a kick on the CPU
     * running this vCPU (arch/x86/entry.c: kick_served_without_lock), so
     * written with vcpu_set_state / an atomic store and read there atomically.
     * vcpu_info points into guest memory the guest changes at will: its
     * event bits are read with atomic loads.
     */
    enum vcpu_state state;
    struct vcpu_info *vcpu_info;

    /*
     * Hypervisor lock. Loaded: its state is live on physical CPU `cpu`
     * (running there, or that CPU idles with it). Otherwise `cpu` is where it
     * ran last. That CPU's APIC timer serves its timers and poll deadline.
     */
    bool loaded;
    unsigned int cpu;
    bool initialised;           /* has a context (the builder's, or VCPUOP_initialise) */
    uint64_t init_l4_hold;      /* an L4 VCPUOP_initialise validated before it was re-issued */
    struct domain *pause_wait;  /* paused by our pausedomain, re-issued until none of it runs */
    unsigned int nr_poll_ports; /* SCHEDOP_poll in progress: wake on these */
    evtchn_port_t poll_ports[MAX_POLL_PORTS];
    uint64_t poll_deadline;     /* system time ns; 0: none */
    uint64_t cr2;               /* last guest page-fault address */
    struct trap_info trap_table[256];   /* vector -> handler; address 0: none */
    struct guest_callback event_cb, failsafe_cb, syscall_cb, syscall32_cb, sysenter_cb, nmi_cb;
    uint64_t kernel_ss, kernel_sp;      /* stack for bounces from user mode */
    uint64_t gdt_frames[FIRST_RESERVED_GDT_PAGE]; /* held as SEG_DESC; 0 past gdt_entries */
    unsigned int gdt_entries;
    uint64_t ldt_base;          /* guest address of the LDT (MMUEXT_SET_LDT) */
    unsigned int ldt_entries;
    bool fpu_ts;                /* the guest's virtual CR0.TS */
    uint64_t guest_cr4;         /* the CR4 value the guest reads back */
    uint64_t tsc_aux;           /* MSR_TSC_AUX as the guest set it */
    unsigned int iopl;          /* virtual I/O privilege level (physdev_op set_iopl) */
    uint64_t debugreg[8];
    uint16_t virq_port[NR_VIRQS];       /* bound VIRQ ports; 0: not bound */
    uint64_t timer_deadline;            /* single-shot timer, system time ns; 0: off */
    uint64_t timer_period;              /* periodic timer period ns; 0: off */
    uint64_t periodic_next;
    bool vcpu_info_registered;
    uint64_t runstate_va;               /* guest copy of the runstate; 0: none */
    struct vcpu_runstate_info runstate;

    /*
     * Hypervisor lock, and while the vCPU is loaded only its CPU touches
     * them: they are live in that CPU's registers (or cpu_info.guest_regs)
     * and saved here when it is switched out (see arch/x86/context.c).
     */
    uint8_t fpu[512] __attribute__((aligned(16)));
    uint16_t sel_ds, sel_es, sel_fs, sel_gs;
    uint64_t fs_base;
    bool in_kernel;             /* guest kernel mode (else guest user mode) */
    uint64_t kernel_l4_mfn;     /* CR3 in guest kernel mode */
    uint64_t user_l4_mfn;       /* CR3 in guest user mode; 0 if none */
    /*
     * GS bases: the active mode's base is live in MSR_GS_BASE; the other
     * mode's is kept here and swapped in when the mode changes.
     */
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
    struct cpu_regs regs;       /* saved registers while not running */

    /*
     * PVH only (arch/x86/svm.c): the vCPU's VMCB, a hypervisor frame, set at
     * build and freed with the domain. While loaded, the guest's RAX, RIP,
     * RSP and RFLAGS live in regs/guest_regs like a PV vCPU's; the rest of
     * its CPU state is in the VMCB, touched only by the CPU it is loaded on.
     */
    struct vmcb *vmcb;
    uint64_t vmcb_pa;
    /* PVH only: its local APIC (arch/x86/vlapic.c); hypervisor lock. */
    struct vlapic lapic;
    /*
     * PVH only, hypervisor lock (arch/x86/svm.c): the start-up protocol of
     * its local APIC. sipi_wait: an INIT (or the build, for vCPUs above 0)
     * left it waiting for a Startup IPI; sipi_start: a Startup IPI came,
     * and the vCPU begins in real mode at sipi_vector * 4 KiB the next time
     * its own CPU enters it (svm_prepare_entry: the VMCB is that CPU's).
     */
    bool sipi_wait, sipi_start;
    uint8_t sipi_vector;
};

/* What a domain is: a PV guest (Xen's PV ABI, ring 3) or a PVH guest (SVM, nested paging). */
enum domain_type { DOMAIN_PV, DOMAIN_PVH };

struct domain {
    /* Set when the domain is built; read-only afterwards. */
    domid_t id;
    bool privileged;            /* may use privileged operations (dom0) */
    enum domain_type type;
    uint64_t npt_root;          /* PVH: machine frame of the nested L4 (mm/npt.c); 0: none */
    struct shared_info *shared_info;    /* the guest changes its event bits: atomics */
    uint64_t shared_info_mfn;
    unsigned int nr_vcpus;

    /* Hypervisor lock for writers (domain_set_state); read by a kick without it. */
    enum domain_state state;

    /* Hypervisor lock. */
    unsigned int shutdown_reason;       /* SHUTDOWN_* once not running */
    int shutdown_code;                  /* SCHEDOP_shutdown_code, or -1 */
    uint64_t nr_pages;
    uint64_t max_pages;
    bool console_at_line_start;
    /* Console output budget of an unprivileged domain (console_io.c). */
    uint32_t console_bytes_left;
    uint64_t console_refilled_at;       /* system time ns; 0: never, full */
    uint64_t console_ring_mfn;          /* domU console ring the hypervisor serves; 0: none */
    bool console_taken;                 /* a dom0 daemon serves the ring (console_takeover) */
    uint64_t console_mfn;               /* the domU's console ring, served or taken; 0: none */
    unsigned int console_port;
    uint64_t store_mfn;                 /* domU store page; 0: none */
    unsigned int store_port;            /* its unbound port for dom0 (run-time domains); 0: none */
    /* PVH: HVM_PARAM_CALLBACK_IRQ's vector (common/hvm_op.c); 0: no callback set. */
    uint8_t callback_vector;
    uint64_t console_gfn, store_gfn;    /* PVH: where the builder put those pages; 0: none */
    struct vcpu vcpus[MAX_VCPUS_PER_DOM];
    uint64_t vm_assist;                 /* enabled VMASST_TYPE_* bits */
    uint32_t tlb_epoch;                 /* flush_tlb_domain calls completed (wraps) */
    uint32_t release_head;              /* mm/pagetype.c's release list; FRAME_NO_NEXT: empty */
    unsigned int paused;                /* domctl pausedomain count: no vCPU runs while > 0 */
    bool building;                      /* still being built (domain_build_step) */
    unsigned int destroy_stage;         /* domain_destroy.c: how far destroying has got */
    uint64_t destroy_pos;               /* domain_destroy.c: the frame a destroy piece goes on from */
    uint64_t destroy_left;              /* domain_destroy.c: d's frames the destroy pass has yet to meet */
    struct evtchn evtchn[NR_EVTCHN_PORTS];
    struct grant_table grant_table;     /* common/grant_table.c */

    /* Statistics: hypervisor lock. */
    struct hypercall_stats hc_stats;
    struct emulation_stats emu_stats;
    struct mm_stats mm_stats;
    struct { uint64_t sent, delivered, timer_fires; } event_stats;
};

/* A PVH domain (runs under SVM); set when it is built. */
static inline bool is_pvh(const struct domain *d)
{
    return d->type == DOMAIN_PVH;
}

/*
 * True if v's registered vcpu_info page holds a writable type reference
 * (every registered one, PV or PVH: common/vcpu.c).
 */
static inline bool vcpu_info_held(const struct vcpu *v)
{
    return v->vcpu_info_registered;
}

/*
 * True if an upcall is due: pending and not masked. Also called without the
 * lock (kick_served_without_lock, PV vCPUs only); the guest changes the
 * bits at will. A PVH vCPU has no upcall mask (its RFLAGS.IF masks the
 * callback vector, as on Xen) and its local APIC may have an interrupt for
 * it too. Inline: every exit to a guest asks.
 */
static inline bool vcpu_event_pending(const struct vcpu *v)
{
    struct vcpu_info *vi = __atomic_load_n(&v->vcpu_info, __ATOMIC_ACQUIRE);
    bool upcall = vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_RELAXED);
    if (is_pvh(v->domain))
        return upcall || vlapic_deliverable(v) >= 0;
    return upcall && !__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_RELAXED);
}

/* vcpu.state / domain.state: written under the lock, read also by kicks without it. */
static inline enum vcpu_state vcpu_state(const struct vcpu *v)
{
    return __atomic_load_n(&v->state, __ATOMIC_RELAXED);
}

static inline void vcpu_set_state(struct vcpu *v, enum vcpu_state state)
{
    __atomic_store_n(&v->state, state, __ATOMIC_RELAXED);
}

static inline enum domain_state domain_state(const struct domain *d)
{
    return __atomic_load_n(&d->state, __ATOMIC_RELAXED);
}

static inline void domain_set_state(struct domain *d, enum domain_state state)
{
    __atomic_store_n(&d->state, state, __ATOMIC_RELAXED);
}

/* Allocates a domain slot with the given id; NULL if the id is taken or no slot is left. */
struct domain *domain_alloc(domid_t id);
/* The domain in pool slot i (0 <= i < MAX_DOMAINS), or NULL if the slot is free. */
struct domain *domain_slot(unsigned int i);
#define for_each_domain(d, i) \
    for (unsigned int i = 0; i < MAX_DOMAINS; i++) \
        if (((d) = domain_slot(i)) != NULL)

/* Returns the running-or-not domain with this id, or NULL. */
struct domain *domain_find(domid_t id);
/*
 * The domain with this id if it is built, else NULL: what other domains'
 * frame operations (foreign mmu_update, reservations, grant tables) may
 * reach. A domain under construction is the builder's alone: a frame dom0
 * mapped or took back could otherwise become one of its page tables.
 */
struct domain *domain_find_built(domid_t id);
/*
 * Releases a domain that never ran (a failed build) or whose destruction is
 * complete (domctl.c): its frames and grant-table pages go back, the slot is
 * free, and no pausedomain waits on it any more.
 */
void domain_free(struct domain *d);
/* Stops d for good (DOMAIN_DYING): vCPUs down and off their CPUs, event channels closed. */
void domain_kill(struct domain *d);
/*
 * One step of destroying d (domain_destroy.c). 0 when it is gone or left
 * dying with frames others map; -XEN_ERESTART when there is more to do (the
 * caller continues).
 */
int domain_destroy_step(struct domain *d);
/* Pauses d (nested): none of its vCPUs runs until as many unpauses. */
void domain_pause(struct domain *d);
void domain_unpause(struct domain *d);
/* Raises VIRQ_DOM_EXC in domain 0 (a domain shut down, crashed or died). */
void notify_dom0(void);

/* Stops a domain with a SHUTDOWN_* reason; it is never entered again. */
void domain_shutdown(struct domain *d, unsigned int reason);
/* Kills a domain the hypervisor cannot continue (reason SHUTDOWN_crash). */
void domain_crash(struct domain *d, const char *why, const struct cpu_regs *regs);

/* Powers the machine off with the last shut-down domain's reason. */
__attribute__((noreturn)) void power_off_machine(void);
/* Prints per-domain statistics. */
void domain_print_stats(const struct domain *d);

#endif
