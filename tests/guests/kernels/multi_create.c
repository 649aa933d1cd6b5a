/*
 * multi_create (the initial domain alone, given its own image as its initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): domains created at run
 * time, as a toolstack creates them.
 *
 * The parent (role 0) builds children from the image in its initrd with
 * PVKIT_DOMCTL_create_pv. A child (role=1) checks what it was given -- not
 * privileged, its command line, its memory, a store event channel that is
 * unbound with remote domain 0, no domctl of its own -- prints one line and
 * shuts down with the reason its command line names (exit=N), or crashes if
 * a check failed. The parent checks: a new domain is paused, gets the next
 * id, the pages asked for, the store and console frames and ports;
 * unpaused it runs and its shutdown reason reaches getdomaininfo after
 * VIRQ_DOM_EXC; statistics, vCPU info, max_mem and the hypervisor's log
 * ring read back; destroy returns the machine's free pages to exactly the
 * figure before the create, over 20 cycles; and every bad argument (flags,
 * vCPUs, memory, ids, unreadable kernel, initrd or command line, a garbage
 * or truncated image, a read-only answer) is an error that leaves no domain
 * and no page behind. The hypervisor's log ring reads back whole and in
 * pieces, and its clear forgets only what was read, as Xen's. Finally domains are created until the slots run out
 * (-ENOSPC) and all are destroyed.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define CHILD_KB 8192

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t scratch[4096] __attribute__((aligned(4096)));
static char log_buf[16384];
static char log_chunked[16384];

/* ---- the child ----------------------------------------------------------- */

static void child(void)
{
    const start_info_t *si = guest_start_info;
    struct xen_domctl op;
    evtchn_status_t st;
    int ok = 1;

    ok &= !(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN));
    ok &= si->nr_pages == CHILD_KB / 4;
    ok &= guest_strstr((const char *)si->cmd_line, "role=1") != NULL;
    ok &= si->store_evtchn != 0 && si->store_mfn != 0 && si->console.domU.evtchn != 0;
    ok &= evt_status(DOMID_SELF, si->store_evtchn, &st) == 0;
    ok &= st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == 0;
    ok &= dctl(XEN_DOMCTL_getdomaininfo, 0, &op) == -XEN_EPERM;
    op.cmd = PVKIT_DOMCTL_create_pv;
    ok &= hyp_domctl(&op) == -XEN_EPERM;
    guest_printf("multi_create child: checks %s\n", ok ? "ok" : "FAILED");
    guest_shutdown(ok ? (unsigned int)evt_cmdline_num("exit", SHUTDOWN_poweroff) : SHUTDOWN_crash);
}

/* ---- the parent ---------------------------------------------------------- */

static long evt_dom_exc = -1;



static void first_create(void)
{
    struct xen_domctl op;
    uint64_t free0 = free_pages();

    TEST("create a child: paused, its id, pages, store and console");
    create_child_op(&op, 0, CHILD_KB, "multi_create role=1 exit=0");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t id = op.domain;
    EXPECT_EQ(id, 1);
    EXPECT(create_args(&op)->store_mfn != 0 && create_args(&op)->console_mfn != 0);
    EXPECT(create_args(&op)->store_port != 0 && create_args(&op)->console_port != 0);
    EXPECT(create_args(&op)->store_port != create_args(&op)->console_port);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_paused);
    EXPECT_EQ(op.u.getdomaininfo.tot_pages, CHILD_KB / 4);
    EXPECT_EQ(op.u.getdomaininfo.max_vcpu_id, 0);
    EXPECT(free_pages() + CHILD_KB / 4 <= free0);

    TEST("vCPU info, max_mem");
    EXPECT_EQ(dctl(XEN_DOMCTL_getvcpuinfo, id, &op), 0);
    EXPECT_EQ(op.u.getvcpuinfo.online, 1);
    EXPECT_EQ(op.u.getvcpuinfo.running, 0);
    op.u.getvcpuinfo.vcpu = 1;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_max_mem, .domain = id,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION,
                              .u.max_mem.max_memkb = CHILD_KB + 1024 };
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
    EXPECT_EQ(op.u.getdomaininfo.max_pages, (CHILD_KB + 1024) / 4);

    TEST("unpaused, it runs and powers off; statistics");
    EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
    struct pvkit_domain_stats *stats = (struct pvkit_domain_stats *)pool[0];
    dctl(PVKIT_DOMCTL_get_stats, id, &op);
    struct pvkit_domctl_get_stats *g = (struct pvkit_domctl_get_stats *)&op.u;
    g->buffer = (uint64_t)stats;
    g->size = 4096;
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(g->size, sizeof(*stats));
    EXPECT(stats->hypercalls[__HYPERVISOR_sched_op] >= 1);
    EXPECT(stats->hypercalls[__HYPERVISOR_domctl] >= 2);
    EXPECT(stats->hypercall_errors[__HYPERVISOR_domctl] >= 2);
    uint64_t *words = (uint64_t *)pool[1];
    words[0] = words[1] = 0x5a5a5a5a5a5a5a5aull;
    g->buffer = (uint64_t)words;
    g->size = 8; /* a prefix only */
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(g->size, 8);
    EXPECT_EQ(words[1], 0x5a5a5a5a5a5a5a5aull);
    g->buffer = 0xdead000000000000ull;
    g->size = 64;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EFAULT);

    TEST("destroy returns every page");
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id, 0);
    EXPECT_EQ(free_pages(), free0);
}

static void create_cycles(void)
{
    static const int reasons[] = { SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_crash };
    static char cmd[64] = "multi_create role=1 exit=0";
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    int bad = 0, leaks = 0;

    TEST("20 create/run/destroy cycles: reasons reported, no page lost");
    for (int i = 0; i < 20; i++) {
        int want = reasons[i % 3];
        cmd[sizeof("multi_create role=1 exit=") - 1] = (char)('0' + want);
        create_child_op(&op, 0, CHILD_KB, cmd);
        if (hyp_domctl(&op)) {
            bad++;
            continue;
        }
        domid_t id = op.domain;
        bad += create_run_to_shutdown(evt_dom_exc, id) != want;
        bad += dctl(XEN_DOMCTL_destroydomain, id, &op) != 0;
        leaks += free_pages() != free0;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(leaks, 0);
}

/* Issues op (a create) and checks it fails with want, leaving no domain nor page behind. */
static void expect_refused(struct xen_domctl *op, long want, uint64_t free0, const char *what)
{
    struct xen_domctl info;
    long rc = hyp_domctl(op);
    if (rc != want)
        guest_printf("     %s: got %ld\n", what, rc);
    EXPECT_EQ(rc, want);
    EXPECT_EQ(free_pages(), free0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &info), -XEN_ESRCH);
}

static void bad_arguments(void)
{
    static char long_cmd[PVKIT_CMDLINE_MAX + 8];
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    const char *cmd = "multi_create role=1";

    TEST("bad arguments: an error, and nothing left behind");
    create_child_op(&op, 0, CHILD_KB, cmd);
    create_args(&op)->flags = 1;
    expect_refused(&op, -XEN_EINVAL, free0, "flags");
    create_child_op(&op, 0, CHILD_KB, cmd);
    create_args(&op)->max_vcpus = 0;
    expect_refused(&op, -XEN_EINVAL, free0, "0 vCPUs");
    create_args(&op)->max_vcpus = PVKIT_MAX_VCPUS + 1;
    expect_refused(&op, -XEN_EINVAL, free0, "too many vCPUs");
    create_child_op(&op, 0, CHILD_KB + 1, cmd);
    expect_refused(&op, -XEN_EINVAL, free0, "memory not whole pages");
    create_child_op(&op, 0, 0, cmd);
    expect_refused(&op, -XEN_EINVAL, free0, "no memory");
    create_child_op(&op, 0, 1ull << 50, cmd);
    expect_refused(&op, -XEN_ENOMEM, free0, "memory beyond the machine");
    create_child_op(&op, 0, (free0 + 1024) * 4, cmd);
    expect_refused(&op, -XEN_ENOMEM, free0, "more memory than is free");
    create_child_op(&op, DOMID_FIRST_RESERVED, CHILD_KB, cmd);
    expect_refused(&op, -XEN_EINVAL, free0, "reserved id");
    create_child_op(&op, 0, CHILD_KB, cmd);
    create_args(&op)->kernel = 0xdead000000000000ull;
    expect_refused(&op, -XEN_EFAULT, free0, "kernel in the hypervisor's range");
    create_args(&op)->kernel = 0x0000700000000000ull;
    expect_refused(&op, -XEN_EFAULT, free0, "kernel unmapped");
    create_child_op(&op, 0, CHILD_KB, cmd);
    create_args(&op)->kernel_size = 100;
    expect_refused(&op, -XEN_EINVAL, free0, "truncated kernel");
    create_args(&op)->kernel = (uint64_t)scratch;
    create_args(&op)->kernel_size = sizeof(scratch);
    expect_refused(&op, -XEN_EINVAL, free0, "garbage kernel");
    create_child_op(&op, 0, CHILD_KB, cmd);
    create_args(&op)->initrd = 0x0000700000000000ull;
    create_args(&op)->initrd_size = 8192;
    expect_refused(&op, -XEN_EFAULT, free0, "initrd unmapped (fails mid-build)");
    create_args(&op)->initrd = 0;
    expect_refused(&op, -XEN_EINVAL, free0, "initrd size without initrd");
    create_args(&op)->initrd_size = 0;
    create_args(&op)->cmdline = 0x0000700000000000ull;
    expect_refused(&op, -XEN_EFAULT, free0, "command line unmapped");
    for (unsigned int i = 0; i < sizeof(long_cmd); i++)
        long_cmd[i] = 'x';
    create_args(&op)->cmdline = (uint64_t)long_cmd;
    expect_refused(&op, -XEN_EINVAL, free0, "command line too long");

    TEST("bad arguments: a read-only answer is refused before building");
    struct xen_domctl *ro = (struct xen_domctl *)pool[2];
    create_child_op(ro, 0, CHILD_KB, cmd);
    EXPECT_EQ(pt_map_ro(pool[2]), 0);
    expect_refused(ro, -XEN_EFAULT, free0, "read-only op");
    EXPECT_EQ(pt_map_rw(pool[2]), 0);

    TEST("ids: one asked for, one in use");
    create_child_op(&op, 7, CHILD_KB, cmd);
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(op.domain, 7);
    create_child_op(&op, 7, CHILD_KB, cmd);
    EXPECT_EQ(hyp_domctl(&op), -XEN_EEXIST);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 7, &op), 0);
    EXPECT_EQ(free_pages(), free0);
}

static void exhaust_slots(void)
{
    domid_t ids[64];
    unsigned int n = 0;
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    long rc = 0;

    TEST("create until the slots run out (-ENOSPC), then destroy all");
    while (n < 64) {
        create_child_op(&op, 0, 4096, "multi_create role=1");
        if ((rc = hyp_domctl(&op)))
            break;
        ids[n++] = op.domain;
    }
    guest_printf("     %u domains, then %ld\n", n, rc);
    EXPECT(n >= 8);
    EXPECT(rc == -XEN_ENOSPC || rc == -XEN_ENOMEM);
    for (unsigned int i = 0; i < n; i++)
        EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, ids[i], &op), 0);
    EXPECT_EQ(free_pages(), free0);
}

/* Reads the log ring from `start` in 100-byte pieces into log_chunked; returns the bytes read. */
static uint32_t read_log_in_pieces(uint32_t start, uint32_t end)
{
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_readconsole,
                            .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    uint32_t got = 0;

    s.u.readconsole.incremental = 1;
    s.u.readconsole.index = start;
    while (s.u.readconsole.index != end && got < sizeof(log_chunked)) {
        set_xen_guest_handle(s.u.readconsole.buffer, log_chunked + got);
        uint32_t room = end - s.u.readconsole.index;
        s.u.readconsole.count = room < 100 ? room : 100;
        if (hyp_sysctl(&s) || s.u.readconsole.count == 0)
            break;
        got += s.u.readconsole.count;
    }
    return got;
}

static void read_log_ring(void)
{
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_readconsole,
                            .interface_version = XEN_SYSCTL_INTERFACE_VERSION };

    TEST("the hypervisor's log ring, whole and in pieces");
    set_xen_guest_handle(s.u.readconsole.buffer, log_buf);
    s.u.readconsole.count = sizeof(log_buf) - 1;
    long rc = hyp_sysctl(&s);
    uint32_t count = s.u.readconsole.count, end = s.u.readconsole.index;
    /* Nothing is printed until the pieces are read: the ring must not move. */
    uint32_t got = read_log_in_pieces(end - count, end);
    EXPECT_EQ(rc, 0);
    log_buf[count] = 0;
    EXPECT(count > 1000);
    EXPECT(guest_strstr(log_buf, ": destroyed") != NULL);
    EXPECT(guest_strstr(log_buf, "multi_create child: checks ok") != NULL);
    EXPECT_EQ(got, count);
    EXPECT_EQ(guest_memcmp(log_chunked, log_buf, count), 0);
    set_xen_guest_handle(s.u.readconsole.buffer, (char *)0xdead000000000000ull);
    s.u.readconsole.count = 16;
    s.u.readconsole.index = end - count;
    EXPECT_EQ(hyp_sysctl(&s), -XEN_EFAULT);

    TEST("the log ring: clear forgets what was read, keeps the rest (as Xen)");
    s.u.readconsole = (struct xen_sysctl_readconsole){ .clear = 1, .count = 16 };
    set_xen_guest_handle(s.u.readconsole.buffer, log_buf);
    EXPECT_EQ(hyp_sysctl(&s), 0);
    EXPECT_EQ(s.u.readconsole.count, 16);
    s.u.readconsole = (struct xen_sysctl_readconsole){ .clear = 1, .count = sizeof(log_buf) - 1 };
    set_xen_guest_handle(s.u.readconsole.buffer, log_buf);
    EXPECT_EQ(hyp_sysctl(&s), 0);
    EXPECT(s.u.readconsole.count > 1000); /* what the short read left */
    s.u.readconsole = (struct xen_sysctl_readconsole){ .count = sizeof(log_buf) - 1 };
    set_xen_guest_handle(s.u.readconsole.buffer, log_buf);
    EXPECT_EQ(hyp_sysctl(&s), 0);
    EXPECT(s.u.readconsole.count < 400); /* only the check lines printed since */
}

void test_main(void)
{
    static void (*const tests[])(void) = {
        first_create, create_cycles, bad_arguments, exhaust_slots, read_log_ring,
    };

    if (evt_cmdline_num("role", 0) == 1)
        child();
    if (!create_setup("setup: our own image is the initrd"))
        return;
    pt_pool_init(pool[4], 4);
    evt_dom_exc = create_watch_children();
    test_run_all(tests, sizeof(tests) / sizeof(tests[0]));
    evt_disable();
}
