/*
 * domctl (36) and sysctl (35) for the test kernels that act as the
 * privileged domain (multi_domctl, multi_destroy_*, multi_dying_*): Xen's
 * structures from <xen/domctl.h> and <xen/sysctl.h>, which are visible
 * only to toolstacks (__XEN_TOOLS__, defined here: include this header
 * before any other that includes a Xen header).
 */
#ifndef GUEST_DOMCTL_H
#define GUEST_DOMCTL_H

#define __XEN_TOOLS__ 1
#include "guest.h"
#include "hypercall.h"
#include <xen/domctl.h>
#include <xen/sysctl.h>

/* HYPERVISOR_domctl(op) and HYPERVISOR_sysctl(op). */
static inline long hyp_domctl(struct xen_domctl *op)
{
    return hypercall3(__HYPERVISOR_domctl, (unsigned long)op, 0, 0);
}

static inline long hyp_sysctl(struct xen_sysctl *op)
{
    return hypercall3(__HYPERVISOR_sysctl, (unsigned long)op, 0, 0);
}

/* Fills *OP with command CMD for domain DOM at our interface version and issues it. */
static inline long dctl(uint32_t cmd, domid_t dom, struct xen_domctl *op)
{
    *op = (struct xen_domctl){ .cmd = cmd, .interface_version = XEN_DOMCTL_INTERFACE_VERSION,
                               .domain = dom };
    return hyp_domctl(op);
}

/* The machine's free pages (sysctl physinfo), or 0 if that fails. */
static inline uint64_t free_pages(void)
{
    struct xen_sysctl op = { .cmd = XEN_SYSCTL_physinfo,
                             .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    return hyp_sysctl(&op) == 0 ? op.u.physinfo.free_pages : 0;
}

/*
 * After destroying a domain that held B_PAGES pages, with FREE0 free pages
 * before: prints the free pages before and after and checks (one check)
 * that at least B_PAGES came back.
 */
static inline void expect_pages_back(uint64_t free0, uint64_t b_pages)
{
    uint64_t free1 = free_pages();

    guest_printf("     free pages %lu -> %lu (B had %lu)\n", (unsigned long)free0,
                 (unsigned long)free1, (unsigned long)b_pages);
    EXPECT(free1 >= free0 + b_pages);
}

#endif
