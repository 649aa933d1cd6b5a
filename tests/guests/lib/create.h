/*
 * Creating children at run time, for the test kernels that act as a
 * toolstack with pvkit's PVKIT_DOMCTL_create_pv (multi_create*): the child
 * is built from the image the runner passed as our initrd (our own, so one
 * kernel holds both roles). Include domctl.h before any Xen header.
 */
#ifndef GUEST_CREATE_H
#define GUEST_CREATE_H

#include "domctl.h"
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"

/* The create arguments inside *op. */
static inline struct pvkit_domctl_create_pv *create_args(struct xen_domctl *op)
{
    return (struct pvkit_domctl_create_pv *)&op->u;
}

/*
 * Fills *op to create a child from our initrd: id (0: the next free), kb
 * KiB of memory, command line cmd, one vCPU.
 */
static inline void create_child_op(struct xen_domctl *op, domid_t id, uint64_t kb,
                                   const char *cmd)
{
    *op = (struct xen_domctl){ .cmd = PVKIT_DOMCTL_create_pv, .domain = id,
                               .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    struct pvkit_domctl_create_pv *c = create_args(op);
    c->kernel = guest_start_info->mod_start;
    c->kernel_size = guest_start_info->mod_len;
    c->cmdline = (uint64_t)cmd;
    c->mem_kb = kb;
    c->max_vcpus = 1;
}

/*
 * Enables event delivery and binds VIRQ_DOM_EXC (a domain shut down or
 * died), the port create_run_to_shutdown waits on: one check (port > 0).
 * Returns the port or -errno.
 */
static inline long create_watch_children(void)
{
    long port;

    evt_enable();
    port = evt_bind_virq(VIRQ_DOM_EXC, 0);
    EXPECT(port > 0);
    return port;
}

/*
 * Unpauses domain id and waits (20 s at most) for its shutdown, woken by
 * VIRQ_DOM_EXC on port dom_exc; returns its shutdown reason, or -1.
 */
static inline int create_run_to_shutdown(long dom_exc, domid_t id)
{
    struct xen_domctl op;
    unsigned int seen = evt_count[dom_exc];
    uint64_t end = evt_now() + 20000000000ull;

    if (dctl(XEN_DOMCTL_unpausedomain, id, &op))
        return -1;
    for (;;) {
        if (dctl(XEN_DOMCTL_getdomaininfo, id, &op) || op.domain != id)
            return -1;
        if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown)
            return (int)((op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) &
                         XEN_DOMINF_shutdownmask);
        if (evt_now() > end)
            return -1;
        evt_wait((evtchn_port_t)dom_exc, ++seen, 100000000ull);
    }
}

/*
 * The child's side of the kernels whose children only have to run: if our
 * command line has role=1, prints LINE (and a newline) and powers off,
 * never returning; otherwise returns at once.
 */
static inline void create_child_exit(const char *line)
{
    if (evt_cmdline_num("role", 0) == 1) {
        guest_printf("%s\n", line);
        guest_shutdown(SHUTDOWN_poweroff);
    }
}

/*
 * The start of vCPU 1 in the kernels that race a create from vCPU 0: sets
 * *READY and spins until vCPU 0 sets *GO (just before it creates).
 */
static inline void create_ap_ready_go(volatile int *ready, volatile int *go)
{
    __atomic_store_n(ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause");
}

/* The end of that vCPU: sets *DONE and blocks for good. */
static inline __attribute__((noreturn)) void create_ap_finish(volatile int *done)
{
    __atomic_store_n(done, 1, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

/*
 * For a vCPU racing a create on another: polls XEN_DOMCTL_getdomaininfo of
 * domain id without yielding until it exists (it may be still building) or
 * timeout_ns has passed. Returns 1 with its info in *op, or 0.
 */
static inline int create_poll_domain(domid_t id, uint64_t timeout_ns, struct xen_domctl *op)
{
    uint64_t end = evt_now() + timeout_ns;

    while (evt_now() < end)
        if (dctl(XEN_DOMCTL_getdomaininfo, id, op) == 0 && op->domain == id)
            return 1;
    return 0;
}

/*
 * 1 if page P (a frame of a child, mapped by us) looks like a PV L4 made by
 * the hypervisor: one of the hypervisor's slots 256-271 equals ours in OUR_L4.
 */
static __attribute__((unused, noinline)) int create_looks_like_l4(const uint64_t *p, const uint64_t *our_l4)
{
    for (unsigned int i = 256; i < 272; i++)
        if (our_l4[i] && p[i] == our_l4[i])
            return 1;
    return 0;
}

/*
 * The pfn of start_info in a child of kb KiB built from our own image
 * (boot_layout.c: kernel, its p2m, then start_info): our kernel's end,
 * found from our own start_info's pfn less our p2m and initrd pages, plus
 * the child's p2m pages. Our own start_info's pfn goes to *our_si if not NULL.
 */
static inline uint64_t create_child_si_pfn(uint64_t kb, uint64_t *our_si)
{
    const start_info_t *si = guest_start_info;
    uint64_t base = (uint64_t)si->pt_base - ((uint64_t)si->pt_base & 0x3fffffffull);
    uint64_t si_pfn = ((uint64_t)si - base) >> 12;
    uint64_t kend = si_pfn - (si->nr_pages * 8 + 4095) / 4096 - (si->mod_len + 4095) / 4096;

    if (our_si)
        *our_si = si_pfn;
    return kend + (kb / 4 * 8 + 4095) / 4096;
}

/*
 * The setup group NAME of a parent: evt_setup and a check that the runner
 * passed our own image as the initrd (the children's kernel). 1 if the
 * parent can go on.
 */
static inline int create_setup(const char *name)
{
    return evt_setup(name) && EXPECT(guest_start_info->mod_len > 4096);
}

/*
 * create_child_exit(CHILD), create_setup(NAME), then pt_pool_init(POOL, N):
 * the start of a parent whose children only run. 1 if it can go on.
 */
static inline int create_parent_start(const char *child, const char *name, void *pool,
                                      unsigned int n)
{
    create_child_exit(child);
    if (!create_setup(name))
        return 0;
    pt_pool_init(pool, n);
    return 1;
}

#endif
