/*
 * domctl (36): the privileged domain's control of other domains, Xen's
 * subset that a toolstack's life-cycle needs: getdomaininfo, getvcpuinfo,
 * max_mem, pausedomain, unpausedomain, destroydomain (structures and numbers
 * of Xen 4.17's public domctl.h, interface version checked: -EACCES), and
 * pvkit's own PVKIT_DOMCTL_create_pv, PVKIT_DOMCTL_get_stats and
 * PVKIT_DOMCTL_console_takeover (public/pvkit.h says why one call creates
 * and builds a domain).
 *
 * sysctl's physinfo and readconsole (at the end) tell what the machine has
 * and what the hypervisor logged.
 *
 * destroydomain runs domain_destroy_step (domain_destroy.c) piece by piece,
 * continuing the hypercall while there is more to do.
 */
#define __XEN_TOOLS__ 1 /* domctl.h/sysctl.h are for control tools: this is their server */
#include "pvkit/domain_build.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/pv_cpu.h"
#include "pvkit/sched.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/vcpu.h"
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include "public/pvkit.h"

/*
 * Budget units per page a create piece writes (zeroes a new frame, copies
 * a page of the image): 128 pages, 512 KiB, a piece. Zeroing frames that
 * last held another domain's code is slow under QEMU's TCG (it drops the
 * code it translated from each such page): a dom0 creating a domain after a
 * destroy saw 4 MiB pieces hold the lock for 130-250 ms, 1 MiB ones 30-78.
 */
#define BUILD_PAGE_COST 8

static uint32_t info_flags(const struct domain *d)
{
    uint32_t flags = d->paused ? XEN_DOMINF_paused : 0;
    bool running = false, blocked = true;

    if (d->state == DOMAIN_DYING)
        return flags | XEN_DOMINF_dying;
    if (d->state == DOMAIN_SHUTDOWN)
        return flags | XEN_DOMINF_shutdown |
               ((d->shutdown_reason & XEN_DOMINF_shutdownmask) << XEN_DOMINF_shutdownshift);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        running |= d->vcpus[i].runstate.state == RUNSTATE_running;
        blocked &= d->vcpus[i].state != VCPU_RUNNABLE;
    }
    return flags | (running ? XEN_DOMINF_running : 0) | (blocked ? XEN_DOMINF_blocked : 0);
}

/* As Xen: the first domain whose id is at least `from`. */
static struct domain *domain_at_or_after(domid_t from)
{
    struct domain *d, *best = NULL;
    for_each_domain(d, slot)
        if (d->id >= from && (!best || d->id < best->id))
            best = d;
    return best;
}

static void get_info(const struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    *info = (struct xen_domctl_getdomaininfo){
        .domain = d->id, .flags = info_flags(d), .tot_pages = d->nr_pages,
        .max_pages = d->max_pages, .shared_info_frame = d->shared_info_mfn,
        .max_vcpu_id = d->nr_vcpus ? d->nr_vcpus - 1 : 0, .cpupool = 0, .gpaddr_bits = (uint8_t)phys_addr_bits,
    };
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        const struct vcpu *v = &d->vcpus[i];
        info->nr_online_vcpus += v->state != VCPU_DOWN;
        info->cpu_time += vcpu_running_time(v);
    }
}

/* --- create ------------------------------------------------------------------- */

/* Reads an image in the calling guest's memory. */
static int read_guest_image(const struct image_src *src, uint64_t off, void *dst, uint64_t n)
{
    return copy_from_guest(dst, src->guest_va + off, n) ? -XEN_EFAULT : 0;
}

static struct image_src guest_image(uint64_t va, uint64_t size)
{
    return (struct image_src){ .read = read_guest_image, .guest_va = va, .size = size };
}

/* Copies the NUL-terminated command line at va: 0, -XEN_EFAULT, or -XEN_EINVAL if too long. */
static int copy_cmdline(uint64_t va, char *dst)
{
    dst[0] = 0;
    for (unsigned int i = 0; va && i < PVKIT_CMDLINE_MAX; i++) {
        if (copy_from_guest(&dst[i], va + i, 1))
            return -XEN_EFAULT;
        if (!dst[i])
            return 0;
    }
    return va ? -XEN_EINVAL : 0;
}

/*
 * The id a new domain gets: `want` if free (-XEN_EEXIST if not, -XEN_EINVAL
 * if reserved), or for 0 the first free id after the last one given, as
 * Xen's rover picks them. 0 is never given: it is the initial domain's.
 */
static int pick_domid(domid_t want, domid_t *out)
{
    static domid_t rover; /* hypervisor lock */

    if (want) {
        if (want >= DOMID_FIRST_RESERVED)
            return -XEN_EINVAL;
        if (domain_find(want))
            return -XEN_EEXIST;
        *out = want;
        return 0;
    }
    for (unsigned int tries = 0; tries < DOMID_FIRST_RESERVED; tries++) {
        rover = rover + 1u >= DOMID_FIRST_RESERVED ? 1 : (domid_t)(rover + 1);
        if (!domain_find(rover)) {
            *out = rover;
            return 0;
        }
    }
    return -XEN_ENOSPC;
}

/*
 * Who is creating the domain under construction (domain_build_pending):
 * the vCPU and the address of its op, and when its last piece ran.
 * Hypervisor lock.
 */
static struct {
    const struct vcpu *v;
    uint64_t op_va;
    uint64_t last_ns;
} creator;

#define CREATE_STALE_NS (10ull * 1000000000) /* a build not continued this long is abandoned */

/* Writes the answer back with the continuation flag cleared; rc passes through. */
static long create_done(uint64_t arg, struct xen_domctl *op, long rc)
{
    ((struct pvkit_domctl_create_pv *)&op->u)->flags = 0;
    if (copy_to_guest(arg, op, sizeof(*op)) && rc == 0)
        return -XEN_EFAULT;
    return rc;
}

/*
 * One piece of the build: up to a call's budget of frames, re-issued
 * (PVKIT_CREATE_CONTINUED in the caller's op) until the domain is built.
 */
static long create_continue(const struct vcpu *v, const uint64_t args[5], struct xen_domctl *op)
{
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&op->u;
    struct domain *d = domain_build_pending();
    long rc;

    if (!d || creator.v != v || creator.op_va != args[0] || d->id != op->domain)
        return create_done(args[0], op, -XEN_ESRCH); /* abandoned or destroyed meanwhile */
    rc = domain_build_step(hypercall_claim(UINT64_MAX, BUILD_PAGE_COST), &d);
    if (rc == -XEN_ERESTART) {
        creator.last_ns = system_time_ns();
        return hypercall_continue(__HYPERVISOR_domctl, args);
    }
    if (rc)
        return create_done(args[0], op, rc);
    c->store_mfn = d->store_mfn;
    c->store_port = d->store_port;
    c->console_mfn = d->console_mfn;
    c->console_port = d->console_port;
    if ((rc = create_done(args[0], op, 0)))
        domain_free(d); /* never ran, nothing maps it: freed at once */
    return rc;
}

/*
 * Checks every argument, creates the domain and builds it in pieces; on any
 * failure nothing is left behind. A build another vCPU left pending is
 * -EBUSY, unless it has not been continued for CREATE_STALE_NS (or is this
 * vCPU's own, left behind): then it is abandoned.
 */
static long create_pv(const struct vcpu *v, const uint64_t args[5], struct xen_domctl *op)
{
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&op->u;
    static char cmdline[PVKIT_CMDLINE_MAX]; /* hypervisor lock */
    struct image_src kernel = guest_image(c->kernel, c->kernel_size);
    struct image_src initrd = guest_image(c->initrd, c->initrd_size);
    domid_t id;
    long rc;

    if (c->flags == PVKIT_CREATE_CONTINUED)
        return create_continue(v, args, op);
    if (c->flags || c->max_vcpus == 0 || c->max_vcpus > PVKIT_MAX_VCPUS || c->mem_kb % 4 ||
        c->mem_kb == 0 || (!c->initrd && c->initrd_size))
        return -XEN_EINVAL;
    if (c->mem_kb > (max_mfn() << 2))
        return -XEN_ENOMEM;
    if (!guest_range_ok(c->kernel, c->kernel_size) ||
        (c->initrd && !guest_range_ok(c->initrd, c->initrd_size)))
        return -XEN_EFAULT;
    if (domain_build_pending()) {
        if (creator.v != v && system_time_ns() - creator.last_ns < CREATE_STALE_NS)
            return -XEN_EBUSY;
        domain_build_abandon();
    }
    if ((rc = copy_cmdline(c->cmdline, cmdline)) || (rc = pick_domid(op->domain, &id)))
        return rc;
    /* The answer must be writable before anything is built. */
    if (copy_to_guest(args[0], op, sizeof(*op)))
        return -XEN_EFAULT;
    struct domain_config cfg = {
        .id = id, .mem_bytes = c->mem_kb << 10, .nr_vcpus = c->max_vcpus,
        .kernel = &kernel, .initrd = c->initrd ? &initrd : NULL, .cmdline = cmdline,
        .paused = true, .store_channel = true,
    };
    if ((rc = domain_build_start(&cfg)))
        return rc;
    creator.v = v;
    creator.op_va = args[0];
    creator.last_ns = system_time_ns();
    op->domain = id;
    c->flags = PVKIT_CREATE_CONTINUED;
    if (copy_to_guest(args[0], op, sizeof(*op))) {
        domain_build_abandon();
        return -XEN_EFAULT;
    }
    return create_continue(v, args, op);
}

/* --- reading --------------------------------------------------------------------- */

static long get_stats(const struct domain *d, struct xen_domctl *op)
{
    struct pvkit_domctl_get_stats *g = (struct pvkit_domctl_get_stats *)&op->u;
    static struct pvkit_domain_stats st; /* hypervisor lock */

    domain_stats_snapshot(d, &st);
    g->size = MIN(g->size, (uint32_t)sizeof(st));
    return copy_to_guest(g->buffer, &st, g->size) ? -XEN_EFAULT : 0;
}

static long get_vcpu_info(const struct domain *d, struct xen_domctl *op)
{
    struct xen_domctl_getvcpuinfo *vi = &op->u.getvcpuinfo;
    if (vi->vcpu >= d->nr_vcpus)
        return -XEN_EINVAL;
    const struct vcpu *v = &d->vcpus[vi->vcpu];
    vi->online = v->state != VCPU_DOWN;
    vi->blocked = v->state == VCPU_BLOCKED;
    vi->running = v->runstate.state == RUNSTATE_running;
    vi->cpu_time = vcpu_running_time(v);
    vi->cpu = v->cpu;
    return 0;
}

/* --- console ------------------------------------------------------------------- */

/*
 * Hands d's console ring to the caller (public/pvkit.h): the answer is
 * written first, then the hypervisor lets go of the ring (console_input.c
 * and console_ring.c serve only console_ring_mfn) and its port.
 */
static long console_takeover(struct vcpu *v, uint64_t arg, struct domain *d,
                             struct xen_domctl *op)
{
    struct pvkit_domctl_console_takeover *t = (struct pvkit_domctl_console_takeover *)&op->u;

    if (d->state == DOMAIN_DYING)
        return -XEN_EINVAL;
    if (!d->console_mfn)
        return -XEN_ENOENT;
    t->ring_mfn = d->console_mfn;
    t->port = d->console_port;
    if (copy_to_guest(arg, op, sizeof(*op)))
        return -XEN_EFAULT;
    if (d->console_taken)
        return 0; /* a restarted daemon asks again */
    d->evtchn[d->console_port] = (struct evtchn){ .state = EVTCHNSTAT_unbound,
                                                  .remote_dom = v->domain->id };
    put_page_and_type(d, d->console_ring_mfn);
    d->console_ring_mfn = 0;
    d->console_taken = true;
    return 0;
}

/* Whether a vCPU of d still runs on some CPU (it has not been through schedule() since). */
static bool vcpus_running(const struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].runstate.state == RUNSTATE_running)
            return true;
    return false;
}

/*
 * XEN_DOMCTL_pausedomain, synchronous as Xen's (domain_pause waits for each
 * vCPU to leave its CPU): it returns once none of d's vCPUs runs. The pause
 * counts once; while a CPU that was kicked still runs a vCPU of d, the call
 * is re-issued (v->pause_wait names d meanwhile), which drops the lock so
 * that CPU can pass through schedule(). A dying d is not waited for.
 */
static long pause_domain(struct vcpu *v, struct domain *d, const uint64_t args[5])
{
    if (v->pause_wait != d) {
        if (d == v->domain)
            return -XEN_EINVAL; /* as Xen: not oneself */
        if (d->state == DOMAIN_DYING)
            return -XEN_EINVAL;
        domain_pause(d);
    }
    v->pause_wait = NULL;
    if (d->state == DOMAIN_DYING || !vcpus_running(d))
        return 0;
    v->pause_wait = d;
    return hypercall_continue(__HYPERVISOR_domctl, args);
}

/* --- the hypercall ------------------------------------------------------------ */

long do_domctl(struct vcpu *v, const uint64_t args[5])
{
    struct xen_domctl op;
    long rc = CONTROL_OP_COPY_IN(v, args[0], op, XEN_DOMCTL_INTERFACE_VERSION);

    if (rc)
        return rc;
    if (op.cmd == XEN_DOMCTL_getdomaininfo) {
        struct domain *d = domain_at_or_after(op.domain);
        if (!d)
            return -XEN_ESRCH;
        get_info(d, &op.u.getdomaininfo);
        op.domain = d->id;
        return copy_to_guest(args[0], &op, sizeof(op)) ? -XEN_EFAULT : 0;
    }
    if (op.cmd == PVKIT_DOMCTL_create_pv)
        return create_pv(v, args, &op);
    struct domain *d = domain_find(op.domain);
    if (!d)
        return -XEN_ESRCH;
    if (d->building && op.cmd == XEN_DOMCTL_destroydomain) {
        domain_build_abandon(); /* its creator's next piece answers -ESRCH */
        return 0;
    }
    if (d->building && op.cmd != PVKIT_DOMCTL_get_stats)
        return -XEN_EBUSY;
    switch (op.cmd) {
    case PVKIT_DOMCTL_console_takeover:
        return console_takeover(v, args[0], d, &op);
    case PVKIT_DOMCTL_get_stats:
        rc = get_stats(d, &op);
        break;
    case XEN_DOMCTL_getvcpuinfo:
        rc = get_vcpu_info(d, &op);
        break;
    case XEN_DOMCTL_max_mem:
        /* As Xen: any value (clamped), even below the current allocation, which then only shrinks. */
        d->max_pages = MIN(op.u.max_mem.max_memkb >> 2, (uint64_t)UINT32_MAX);
        return 0;
    case XEN_DOMCTL_pausedomain:
        return pause_domain(v, d, args);
    case XEN_DOMCTL_unpausedomain:
        if (d == v->domain || !d->paused)
            return -XEN_EINVAL;
        domain_unpause(d);
        return 0;
    case XEN_DOMCTL_destroydomain:
        if (d == v->domain || d->privileged)
            return -XEN_EINVAL;
        while ((rc = domain_destroy_step(d)) == -XEN_ERESTART && !table_work_preempt())
            ;
        return rc == -XEN_ERESTART ? hypercall_continue(__HYPERVISOR_domctl, args) : rc;
    default:
        return -XEN_ENOSYS;
    }
    /* The reading commands answer in op. */
    if (rc == 0 && copy_to_guest(args[0], &op, sizeof(op)))
        return -XEN_EFAULT;
    return rc;
}

/*
 * sysctl (35): XEN_SYSCTL_physinfo, what the machine has (CPUs online,
 * the TSC rate, total and free memory), for a toolstack's accounting, and
 * XEN_SYSCTL_readconsole, the hypervisor's log ring (console.c); other
 * commands -ENOSYS. Privileged domain only; interface version checked.
 */
static long read_console(struct xen_sysctl_readconsole *rc)
{
    char chunk[256];
    uint32_t done = 0, index = rc->index;
    bool from_index = rc->incremental;

    log_ring_read(&index, from_index, chunk, 0); /* where the read starts, even for count 0 */
    from_index = true;
    while (done < rc->count) {
        uint32_t n = log_ring_read(&index, from_index, chunk, MIN(rc->count - done,
                                                                 (uint32_t)sizeof(chunk)));
        if (!n)
            break;
        if (copy_to_guest(GUEST_HANDLE_VA(rc->buffer) + done, chunk, n))
            return -XEN_EFAULT;
        done += n;
    }
    if (rc->clear)
        log_ring_clear(index);
    rc->index = index;
    rc->count = done;
    return 0;
}

/* Opens as do_domctl does, the shared part in CONTROL_OP_COPY_IN; then its own commands. */
long do_sysctl(struct vcpu *v, const uint64_t args[5])
{
    struct xen_sysctl op;
    long rc = CONTROL_OP_COPY_IN(v, args[0], op, XEN_SYSCTL_INTERFACE_VERSION);

    if (rc)
        return rc;
    if (op.cmd == XEN_SYSCTL_readconsole) {
        rc = read_console(&op.u.readconsole);
        return rc ? rc : copy_to_guest(args[0], &op, sizeof(op)) ? -XEN_EFAULT : 0;
    }
    if (op.cmd != XEN_SYSCTL_physinfo)
        return -XEN_ENOSYS;
    op.u.physinfo = (struct xen_sysctl_physinfo){
        .threads_per_core = 1, .cores_per_socket = nr_cpus_online, .nr_cpus = nr_cpus_online,
        .max_cpu_id = nr_cpus_online - 1, .nr_nodes = 1, .max_node_id = 0,
        .cpu_khz = (uint32_t)(time_tsc_hz() / 1000), .capabilities = XEN_SYSCTL_PHYSCAP_pv,
        .total_pages = max_mfn(), .free_pages = frame_table.nr_free, .max_mfn = max_mfn() - 1,
    };
    return copy_to_guest(args[0], &op, sizeof(op)) ? -XEN_EFAULT : 0;
}
