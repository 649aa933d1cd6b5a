/*
 * smp_hostile (run with --vcpus 2): VCPUOP_initialise with contexts a
 * hostile kernel might pass. Each bad context must be refused (NULL or
 * unreadable pointer, non-canonical RIP / kernel stack / callbacks, a CR3
 * that is not an L4 of ours: an ordinary writable page, a frame we do not
 * own; a GDT frame that is writable), and a refusal must leave vCPU 1
 * uninitialised (is_up 0, VCPUOP_up still -EINVAL) so that a correct
 * context afterwards brings it up and it runs. The exact codes are those
 * Xen 4.17 returns (tests/guests/README).
 */
#include "evt/evt.h"
#include "pt.h"

#define MS 1000000ULL
#define NONCANON 0x0000800000000000UL

static struct vcpu_guest_context ctx;
static unsigned char data_page[4096] __attribute__((aligned(4096)));
static volatile int ap_ran;

void evt_ap_main(unsigned long cpu)
{
    ap_ran = (int)cpu;
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

/* Tries CTX on vCPU 1; returns initialise's result, printing it. */
static long try_init(const char *what)
{
    long rc = hyp_vcpu_op(VCPUOP_initialise, 1, &ctx);

    guest_printf("     %s: %ld\n", what, rc);
    return rc;
}

void test_main(void)
{
    long rc;

    TEST("setup");
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared)
        return;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);

    TEST("hostile: bad pointers");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, NULL), -XEN_EFAULT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, (void *)0xFFFF830000000000UL), -XEN_EFAULT);

    TEST("hostile: non-canonical addresses");
    evt_ap_context(&ctx, 1);
    ctx.user_regs.rip = NONCANON;
    EXPECT_EQ(try_init("rip non-canonical"), -XEN_EINVAL);
    evt_ap_context(&ctx, 1);
    ctx.kernel_sp = NONCANON;
    EXPECT_EQ(try_init("kernel_sp non-canonical"), -XEN_EINVAL);

    TEST("hostile: CR3 that is not one of our L4s");
    evt_ap_context(&ctx, 1);
    ctx.ctrlreg[3] = xen_pfn_to_cr3(pt_mfn_of(data_page));
    rc = try_init("cr3 = a writable data page");
    EXPECT_EQ(rc, -XEN_EINVAL);
    evt_ap_context(&ctx, 1);
    ctx.ctrlreg[3] = xen_pfn_to_cr3(pt_foreign_mfn());
    rc = try_init("cr3 = a frame we do not own");
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(data_page), 0);       /* the data page is still ordinary */
    data_page[0] = 1;
    EXPECT_EQ(data_page[0], 1);

    TEST("hostile: a writable GDT frame");
    evt_ap_context(&ctx, 1);
    ctx.gdt_frames[0] = pt_mfn_of(data_page);
    ctx.gdt_ents = 16;
    rc = try_init("gdt_frames[0] writable");
    EXPECT_EQ(rc, -XEN_EINVAL);

    /* Last: a hypervisor that wrongly accepts one of these has initialised
     * vCPU 1, and every later initialise fails with -EEXIST. */
    TEST("hostile: non-canonical callbacks");
    evt_ap_context(&ctx, 1);
    ctx.failsafe_callback_eip = NONCANON;
    EXPECT_EQ(try_init("failsafe_callback_eip non-canonical"), -XEN_EINVAL);
    evt_ap_context(&ctx, 1);
    ctx.event_callback_eip = NONCANON;
    EXPECT_EQ(try_init("event_callback_eip non-canonical"), -XEN_EINVAL);

    TEST("after the refusals vCPU 1 is still uninitialised");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);

    TEST("a correct context brings it up");
    evt_ap_context(&ctx, 1);
    EXPECT_EQ(try_init("correct context"), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), 0);
    uint64_t end = evt_now() + 5000 * MS;
    while (!ap_ran && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(ap_ran, 1);
    end = evt_now() + 5000 * MS;
    while (hyp_vcpu_op(VCPUOP_is_up, 1, NULL) != 0 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
}
