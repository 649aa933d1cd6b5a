/*
 * multi_create_rshut (run with --vcpus 2 and its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): the initial domain shuts
 * down a domain still under construction (SCHEDOP_remote_shutdown, which
 * names any domain) from vCPU 1 while vCPU 0's create_pv goes on in pieces.
 *
 * Expected: a shut-down domain never runs. Whether the build then fails or
 * completes, the domain reports itself shut down (reboot, the reason we
 * gave), and after an unpause its vCPU 0 neither runs nor uses CPU time,
 * and the child's line ("multi_create_rshut child ran") never reaches the
 * hypervisor's log (read with sysctl readconsole). On Xen the vCPUs exist
 * before the build and domain_shutdown pauses each for the shutdown; they
 * never run again.
 *
 * Found (pvkit at ae004f8): the child does not run (the scheduler takes only
 * vCPUs of running domains, although sched_op.c sched_remote_shutdown
 * accepts a building domain and the last piece's setup_vcpu0 makes vCPU 0
 * runnable in the shut-down domain), but getvcpuinfo reports it using CPU
 * time: setup_vcpu0 (domain_build.c) leaves every new vCPU 0 in
 * RUNSTATE_running with state_entry_time 0, so vcpu_running_time of any
 * created child that never ran counts from the machine's boot (and keeps
 * counting while it is paused or shut down). Xen: a new vCPU is
 * RUNSTATE_offline until first scheduled; its cpu_time is 0.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define CHILD_KB (64u << 10)
#define ID 41

static volatile int ap_ready, go, ap_done;
static volatile long ap_rc = 1;
static char logbuf[32768];

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    struct xen_domctl op;

    create_ap_ready_go(&ap_ready, &go);
    if (create_poll_domain(ID, 20000 * MS, &op)) {
        struct sched_remote_shutdown rs = { .domain_id = ID, .reason = SHUTDOWN_reboot };
        ap_rc = hyp_sched_op(SCHEDOP_remote_shutdown, &rs);
    }
    create_ap_finish(&ap_done);
}

/* Does the hypervisor's log hold s? */
static int log_has(const char *s)
{
    struct xen_sysctl op = { .cmd = XEN_SYSCTL_readconsole,
                             .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    op.u.readconsole.count = sizeof(logbuf) - 1;
    set_xen_guest_handle(op.u.readconsole.buffer, logbuf);
    if (hyp_sysctl(&op))
        return -1;
    logbuf[op.u.readconsole.count] = 0;
    return guest_strstr(logbuf, s) != NULL;
}

void test_main(void)
{
    create_child_exit("multi_create_rshut child ran");
    if (!create_setup("setup: vCPU 1 up"))
        return;
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    if (!ap_ready)
        return;
    struct xen_domctl op;

    TEST("a building domain shut down by dom0 never runs");
    create_child_op(&op, ID, CHILD_KB, "multi_create_rshut role=1");
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    long rc = hyp_domctl(&op);
    evt_wait_flag(&ap_done, 20000 * MS);
    guest_printf("     create %ld; remote_shutdown from vCPU 1 during the build: %ld\n", rc, ap_rc);
    EXPECT_EQ(ap_rc, 0);
    if (rc != 0)
        return; /* refused or failed: nothing can run */
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, ID, &op), 0);
    uint32_t flags = op.u.getdomaininfo.flags;
    guest_printf("     d%u flags %x\n", ID, flags);
    EXPECT(flags & XEN_DOMINF_shutdown);
    EXPECT_EQ((flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask, SHUTDOWN_reboot);
    long un = dctl(XEN_DOMCTL_unpausedomain, ID, &op);
    guest_printf("     unpause: %ld\n", un);
    evt_sleep_ms(500);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = ID,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.getvcpuinfo.vcpu = 0;
    EXPECT_EQ(hyp_domctl(&op), 0);
    guest_printf("     d%u vCPU 0: online %u running %u cpu_time %lu\n", ID, op.u.getvcpuinfo.online,
                 op.u.getvcpuinfo.running, (unsigned long)op.u.getvcpuinfo.cpu_time);
    EXPECT_EQ(op.u.getvcpuinfo.cpu_time, 0);
    EXPECT_EQ(log_has("multi_create_rshut child ran"), 0);
}
