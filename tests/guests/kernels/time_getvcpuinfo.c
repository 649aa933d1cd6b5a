/*
 * time_getvcpuinfo (the initial domain alone; runs on Xen 4.17 too):
 * XEN_DOMCTL_getvcpuinfo and XEN_DOMCTL_max_mem on ourselves, as Xen 4.17's
 * common/domctl.c answers them.
 *
 *   - getvcpuinfo of vCPU 0xffffffff: -EINVAL; of our vCPU 0: online,
 *     running, not blocked, and cpu_time that grows while we run -- Xen
 *     reads it with vcpu_runstate_get(), which adds the time since the
 *     current state was entered. We spin 300 ms without a hypercall that
 *     could block, and expect cpu_time (and getdomaininfo's) to grow by at
 *     least 200 ms;
 *   - max_mem two pages above what we hold: increase_reservation of 10
 *     extents gets 2 and no more; below what we hold: none; 0: none;
 *     XENMEM_maximum_gpfn still a pfn, not an error;
 *     max_memkb 0xffffffffffffffff: accepted (Xen clamps it to the largest
 *     max_pages, "unlimited"; libxl's LIBXL_MAXMEM_UNLIMITED is -1), and
 *     then nothing overflows: an increase of 1 works.
 * The original maximum is put back at the end.
 *
 * Found (pvkit at 6ed41a5):
 *   - get_vcpu_info (hypervisor/common/domctl.c) returns
 *     v->runstate.time[RUNSTATE_running], the time accumulated at the last
 *     state change only: a vCPU that runs without switching shows a frozen
 *     cpu_time (getdomaininfo's cpu_time, get_info, likewise);
 *   - XEN_DOMCTL_max_mem refuses max_memkb above the machine's memory with
 *     -EINVAL, where Xen clamps (`d->max_pages = min(new_max, UINT_MAX)`);
 *   - after max_mem 0, XENMEM_maximum_gpfn (memory_op.c: max_pages - 1)
 *     returns -1, which reads as -EPERM; Xen's is the domain's own highest
 *     pfn, whatever its maximum reservation.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"

#define MS 1000000ULL

static xen_pfn_t ext[16];

static long self_pages(unsigned int cmd)
{
    domid_t self = DOMID_SELF;
    return hyp_memory_op(cmd, &self);
}

static long max_mem(uint64_t kb)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_max_mem, .domain = 0,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.max_mem.max_memkb = kb;
    return hyp_domctl(&op);
}

/* increase_reservation of n extents; gives back whatever it got; returns the count got. */
static long grow_and_give_back(unsigned long n)
{
    long got = hyp_self_reservation(XENMEM_increase_reservation, ext, n);
    if (got > 0)
        EXPECT_EQ(hyp_self_reservation(XENMEM_decrease_reservation, ext, (unsigned long)got), got);
    return got;
}

void test_main(void)
{
    struct xen_domctl op;

    EXPECT_EQ(evt_init(), 0);

    TEST("getvcpuinfo: vCPU 0xffffffff refused, our vCPU 0 online and running");
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = 0,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.getvcpuinfo.vcpu = 0xffffffffu;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
    op.u.getvcpuinfo.vcpu = 0;
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(op.u.getvcpuinfo.online, 1);
    EXPECT_EQ(op.u.getvcpuinfo.running, 1);
    EXPECT_EQ(op.u.getvcpuinfo.blocked, 0);

    TEST("getvcpuinfo / getdomaininfo cpu_time grows while we run (300 ms spin)");
    struct xen_domctl d0, d1;
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = 0,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    EXPECT_EQ(hyp_domctl(&op), 0);
    uint64_t t0 = op.u.getvcpuinfo.cpu_time;
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 0, &d0), 0);
    uint64_t start = evt_now();
    while (evt_now() - start < 300 * MS)
        __asm__ volatile("pause");
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = 0,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    EXPECT_EQ(hyp_domctl(&op), 0);
    uint64_t t1 = op.u.getvcpuinfo.cpu_time;
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 0, &d1), 0);
    guest_printf("     getvcpuinfo cpu_time %lu -> %lu ns, getdomaininfo %lu -> %lu ns\n",
                 (unsigned long)t0, (unsigned long)t1,
                 (unsigned long)d0.u.getdomaininfo.cpu_time,
                 (unsigned long)d1.u.getdomaininfo.cpu_time);
    EXPECT(t1 - t0 >= 200 * MS);
    EXPECT(d1.u.getdomaininfo.cpu_time - d0.u.getdomaininfo.cpu_time >= 200 * MS);

    TEST("max_mem: the limit holds for increase_reservation");
    long cur = self_pages(XENMEM_current_reservation);
    long max0 = self_pages(XENMEM_maximum_reservation);
    guest_printf("     %ld pages, maximum %ld\n", cur, max0);
    EXPECT(cur > 0 && max0 >= cur);
    EXPECT_EQ(max_mem((uint64_t)(cur + 2) * 4), 0);
    EXPECT_EQ(self_pages(XENMEM_maximum_reservation), cur + 2);
    EXPECT_EQ(grow_and_give_back(10), 2);
    EXPECT_EQ(max_mem((uint64_t)(cur - 8) * 4), 0);
    EXPECT_EQ(grow_and_give_back(1), 0);
    EXPECT_EQ(max_mem(0), 0);
    EXPECT_EQ(grow_and_give_back(1), 0);
    long gpfn = hyp_memory_op(XENMEM_maximum_gpfn, &(domid_t){ DOMID_SELF });
    guest_printf("     maximum_gpfn with max_mem 0: %ld\n", gpfn);
    EXPECT(gpfn >= 0); /* not an error code: our pages are all still there */
    EXPECT_EQ(self_pages(XENMEM_current_reservation), cur);

    TEST("max_mem 0xffffffffffffffff KiB: accepted (unlimited), nothing overflows");
    EXPECT_EQ(max_mem(~0ull), 0);
    guest_printf("     maximum now %ld\n", self_pages(XENMEM_maximum_reservation));
    EXPECT_EQ(grow_and_give_back(1), 1);
    EXPECT_EQ(self_pages(XENMEM_current_reservation), cur);

    TEST("the original maximum back");
    EXPECT_EQ(max_mem((uint64_t)max0 * 4), 0);
    EXPECT_EQ(self_pages(XENMEM_maximum_reservation), max0);
}
