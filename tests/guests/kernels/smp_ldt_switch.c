/*
 * smp_ldt_switch (run with --vcpus 3): data selectors that name LDT
 * descriptors survive the vCPU being switched out and back in.
 *
 * Why: when a vCPU is switched in, the hypervisor reloads its DS, ES and FS
 * from what it saved. An LDT selector's descriptor lives in the LDT window,
 * which starts unmapped on every switch; a hypervisor that loads the
 * selector without mapping the page first takes the fault itself and (its
 * fault-safe loader) silently makes the selector null. The guest then runs
 * on with DS = 0, which Linux (and 32-bit code using LDT segments, such as
 * Wine) does not expect.
 *
 * How: vCPU 0 installs a two-entry LDT (a flat data descriptor at index 1)
 * and loads DS, ES and FS with its selector 0x0f. vCPUs 1 and 2 spin with no
 * hypercalls, so three runnable vCPUs share the two physical CPUs and vCPU 0
 * is switched out and back in repeatedly (time slices). For SPIN of system
 * time vCPU 0 reads its selectors in a loop.
 *
 * Checks: no read ever sees a selector other than 0x0f; vCPU 0 really was
 * switched out (its runstate's runnable time grew by at least 1 ms), else
 * the run proves nothing and fails; the LDT page maps writable again after
 * SET_LDT(0,0) (no reference left behind by the switches). Xen 4.17 passes
 * (it maps the LDT page when reloading the selectors, as pvkit now does).
 */
#include "evt/spin.h"
#include "pt.h"
#include <xen/vcpu.h>

#define MS 1000000ULL
#define SPIN (400 * MS)
#define LDT_DS (1 * 8 + 4 + 3)
#define DESC_DATA 0x00cff3000000ffffUL

static struct vcpu_guest_context ctx[3];
static uint64_t ldt[512] __attribute__((aligned(4096)));
static volatile int ap_stop, ap_ready[3];

/* vCPUs 1 and 2: spin (no hypercall) until told to stop, then go down. */
void evt_ap_main(unsigned long cpu)
{
    __atomic_store_n(&ap_ready[cpu], 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&ap_stop, __ATOMIC_ACQUIRE))
        cpu_relax();
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

static long set_ldt(const void *base, unsigned int entries)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };
    op.arg1.linear_addr = (unsigned long)base;
    op.arg2.nr_ents = entries;
    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

static unsigned long read_sel(int which)
{
    unsigned long sel = 0;
    if (which == 0)
        __asm__ volatile("mov %%ds, %0" : "=r"(sel));
    else if (which == 1)
        __asm__ volatile("mov %%es, %0" : "=r"(sel));
    else
        __asm__ volatile("mov %%fs, %0" : "=r"(sel));
    return sel & 0xffff;
}

static uint64_t runnable_ns(void)
{
    struct vcpu_runstate_info r;
    if (hyp_vcpu_op(VCPUOP_get_runstate_info, 0, &r))
        return 0;
    return r.time[RUNSTATE_runnable];
}

/* Brings up vCPUs 1 and 2 spinning; false if one did not start. */
static int start_spinners(void)
{
    for (unsigned int cpu = 1; cpu < 3; cpu++) {
        evt_shared->vcpu_info[cpu].evtchn_upcall_mask = 1;
        evt_ap_context(&ctx[cpu], cpu);
        if (hyp_vcpu_op(VCPUOP_initialise, cpu, &ctx[cpu]) || hyp_vcpu_op(VCPUOP_up, cpu, NULL))
            return 0;
    }
    uint64_t end = evt_now() + 5000 * MS;
    while (!(ap_ready[1] && ap_ready[2]) && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return ap_ready[1] && ap_ready[2];
}

void test_main(void)
{
    unsigned long reads = 0, wrong = 0, last_wrong = 0;

    if (!evt_setup("setup: an LDT with a data descriptor, two spinning vCPUs"))
        return;
    ldt[1] = DESC_DATA;
    EXPECT_EQ(pt_map_ro(ldt), 0);
    EXPECT_EQ(set_ldt(ldt, 2), 0);
    if (!EXPECT(start_spinners()))
        return;

    TEST("DS/ES/FS = LDT selector 0x0f across switches");
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs" : : "r"((unsigned long)LDT_DS));
    uint64_t runnable_before = runnable_ns(), end = evt_now() + SPIN;
    while (evt_now() < end) {
        for (int which = 0; which < 3; which++) {
            unsigned long sel = read_sel(which);
            reads++;
            if (sel != LDT_DS) {
                wrong++;
                last_wrong = sel;
            }
        }
    }
    uint64_t runnable = runnable_ns() - runnable_before;
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %1, %%fs"
                     : : "r"((unsigned long)FLAT_KERNEL_DS), "r"(0ul));
    guest_printf("     %lu reads, %lu wrong (last 0x%lx); switched out for %lu us\n", reads,
                 wrong, last_wrong, (unsigned long)(runnable / 1000));
    EXPECT_EQ(wrong, 0);
    EXPECT(runnable >= 1 * MS);

    TEST("stop the spinners; the LDT page is released");
    __atomic_store_n(&ap_stop, 1, __ATOMIC_SEQ_CST);
    EXPECT_EQ(set_ldt(NULL, 0), 0);
    EXPECT_EQ(pt_map_rw(ldt), 0);
}
