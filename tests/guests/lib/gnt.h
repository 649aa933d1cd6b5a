/*
 * Grant-table steps the multi-domain kernels repeat, as checks.
 */
#ifndef GUEST_GNT_H
#define GUEST_GNT_H

#include "guest.h"
#include <xen/grant_table.h>

/*
 * Unmaps the grant mapping HANDLE at linear address HOST_ADDR
 * (GNTTABOP_unmap_grant_ref): two checks, the call's result 0 and the
 * op's status GNTST_okay.
 */
static inline void gnt_unmap_expect(const void *host_addr, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)host_addr,
                                         .handle = handle };

    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1), 0);
    EXPECT_EQ(un.status, GNTST_okay);
}

#endif
