/*
 * smp_hostile (run with --vcpus 6): VCPUOP_initialise with contexts a
 * hostile kernel might pass. Each bad context must be refused: NULL or
 * unreadable pointer (-EFAULT); non-canonical RIP, RSP, kernel stack,
 * event / failsafe / syscall callbacks, FS/GS bases, LDT base or trap-table
 * address; a CR3 that is not an L4 of ours (an ordinary writable page, a
 * frame we do not own); a writable GDT frame (-EINVAL each). A refusal must
 * leave the vCPU uninitialised (is_up 0, VCPUOP_up still -EINVAL) so that a
 * correct context afterwards brings it up and it runs. A hypervisor that
 * wrongly accepts a case has initialised its target vCPU for good, so the
 * following cases move on to the next vCPU (1..5) and each case is judged
 * on its own; the accepted vCPU is never brought up. The exact codes are
 * those Xen 4.17 returns (tests/guests/README).
 */
#include "evt/evt.h"
#include "pt.h"

#define MS 1000000ULL
#define NONCANON 0x0000800000000000UL
#define NCPU 6

static struct vcpu_guest_context ctx;
static unsigned char data_page[4096] __attribute__((aligned(4096)));
static volatile int ap_ran;
static unsigned int target = 1;           /* the vCPU the next case uses */

void evt_ap_main(unsigned long cpu)
{
    ap_ran = (int)cpu;
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

/* Tries CTX on the target vCPU; returns initialise's result, printing it.
 * If a bad context was accepted (GOOD == 0), later cases use the next vCPU. */
static long try_init_on(const char *what, int good)
{
    long rc;

    if (target >= NCPU) {
        guest_printf("     %s: no vCPU left to try\n", what);
        return -1;
    }
    rc = hyp_vcpu_op(VCPUOP_initialise, target, &ctx);
    guest_printf("     %s (vCPU %u): %ld\n", what, target, rc);
    if (rc == 0 && !good)
        target++;
    return rc;
}

static long try_init(const char *what)
{
    return try_init_on(what, 0);
}

/* An address field of the context, at OFF, and its name in the log. */
struct addr_field {
    size_t off;
    const char *what;
};
#define ADDR_FIELD(f, name) { offsetof(struct vcpu_guest_context, f), name " non-canonical" }

/* Contract: for each of the N fields, a fresh context with that field
 * non-canonical is refused (-XEN_EINVAL): one check each. */
static void expect_noncanonical_refused(const struct addr_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned long v = NONCANON;

        evt_ap_context(&ctx, 1);
        memcpy((char *)&ctx + f[i].off, &v, sizeof(v));
        EXPECT_EQ(try_init(f[i].what), -XEN_EINVAL);
    }
}

void test_main(void)
{
    static const struct addr_field regs[] = {
        ADDR_FIELD(user_regs.rip, "rip"),
        ADDR_FIELD(kernel_sp, "kernel_sp"),
    };
    static const struct addr_field callbacks[] = {
        ADDR_FIELD(failsafe_callback_eip, "failsafe_callback_eip"),
        ADDR_FIELD(event_callback_eip, "event_callback_eip"),
    };
    static const struct addr_field others[] = {
        ADDR_FIELD(syscall_callback_eip, "syscall_callback_eip"),
        ADDR_FIELD(user_regs.rsp, "rsp"),
        ADDR_FIELD(fs_base, "fs_base"),
        ADDR_FIELD(gs_base_kernel, "gs_base_kernel"),
        ADDR_FIELD(gs_base_user, "gs_base_user"),
    };
    long rc;

    if (!evt_setup("setup"))
        return;
    for (unsigned int n = 1; n < NCPU; n++)
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, n, NULL), 0);

    TEST("hostile: bad pointers");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, NULL), -XEN_EFAULT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, (void *)0xFFFF830000000000UL), -XEN_EFAULT);

    TEST("hostile: non-canonical addresses");
    expect_noncanonical_refused(regs, sizeof(regs) / sizeof(regs[0]));

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
    expect_noncanonical_refused(callbacks, sizeof(callbacks) / sizeof(callbacks[0]));

    TEST("hostile: the other addresses Xen checks");
    expect_noncanonical_refused(others, sizeof(others) / sizeof(others[0]));
    evt_ap_context(&ctx, 1);
    ctx.ldt_base = NONCANON;
    ctx.ldt_ents = 1;
    EXPECT_EQ(try_init("ldt_base non-canonical"), -XEN_EINVAL);
    evt_ap_context(&ctx, 1);
    ctx.trap_ctxt[3].vector = 3;
    ctx.trap_ctxt[3].cs = FLAT_KERNEL_CS;
    ctx.trap_ctxt[3].address = NONCANON;
    EXPECT_EQ(try_init("trap_ctxt[3].address non-canonical"), -XEN_EINVAL);

    TEST("after the refusals the vCPU is still uninitialised");
    EXPECT_EQ(target, 1);                     /* no bad context accepted */
    if (target >= NCPU)
        return;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, target, NULL), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, target, NULL), -XEN_EINVAL);

    TEST("a correct context brings it up");
    evt_ap_context(&ctx, target);
    EXPECT_EQ(try_init_on("correct context", 1), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, target, NULL), 0);
    uint64_t end = evt_now() + 5000 * MS;
    while (!ap_ran && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(ap_ran, (int)target);
    end = evt_now() + 5000 * MS;
    while (hyp_vcpu_op(VCPUOP_is_up, target, NULL) != 0 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, target, NULL), 0);
}
