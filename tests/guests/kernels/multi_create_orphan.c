/*
 * multi_create_orphan (the initial domain alone, its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's; the runner gives it a
 * 40 s timeout): a toolstack creates a domain and ends before unpausing it.
 *
 * The initial domain creates a child (which starts paused, as every
 * run-time domain does), checks it is there and paused, and powers off
 * with its verdict. Nobody is left who could unpause the child: it can
 * never run. Expected: the machine powers off (launcher status 0), as it
 * does when the last domain that can run has ended. On Xen 4.17 the
 * hardware domain's shutdown takes the machine down whatever other domains
 * exist (hwdom_shutdown).
 *
 * Found (pvkit at 6ed41a5): any_domain_running (hypervisor/common/
 * schedule.c) counts a paused domain as running (state DOMAIN_RUNNING), so
 * every CPU idles forever after the initial domain's poweroff: the run ends
 * only by the launcher's timeout. (A boot-time domU paused by domctl and
 * left so did the same before; create_pv makes it the normal state of every
 * new domain until the toolstack unpauses it.)
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "guest.h"
#include "public/pvkit.h"
#include "create.h"

void test_main(void)
{
    struct xen_domctl op = { .cmd = PVKIT_DOMCTL_create_pv,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&op.u;

    if (guest_strstr((const char *)guest_start_info->cmd_line, "role=1")) {
        guest_printf("multi_create_orphan child: ran\n");
        guest_shutdown(SHUTDOWN_poweroff);
    }
    TEST("create a child and leave it paused");
    c->kernel = guest_start_info->mod_start;
    c->kernel_size = guest_start_info->mod_len;
    c->cmdline = (uint64_t)"multi_create_orphan role=1";
    c->mem_kb = 4096;
    c->max_vcpus = 1;
    EXPECT(guest_start_info->mod_len > 4096);
    EXPECT_EQ(hyp_domctl(&op), 0);
    domid_t id = op.domain;
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
    EXPECT_EQ(op.domain, id);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_paused);
    guest_printf("     d%u stays paused; we power off now\n", id);
}
