/*
 * Grant-table steps the multi-domain kernels repeat, as checks.
 */
#ifndef GUEST_GNT_H
#define GUEST_GNT_H

#include "evt/evt.h"
#include "pt.h"
#include <xen/grant_table.h>

/*
 * Sets up our grant table with one frame (GNTTABOP_setup_table) and maps
 * that frame writable at TABLE, a page of ours: two checks, both calls' results
 * 0. Returns the frame (0 if the setup failed).
 */
static inline xen_pfn_t gnt_setup_expect(struct grant_entry_v1 *table)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };

    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)table, (frame << 12) | PTE_DATA_RW,
                                    UVMF_INVLPG), 0);
    return frame;
}

/*
 * Sets up our grant table with N frames (GNTTABOP_setup_table, their
 * numbers into FRAMES) and maps frame i writable at PAGES + i * 4096, N
 * pages of ours: 2 + N checks (the setup's result 0 and status
 * GNTST_okay, each mapping's result 0). Returns the table, at PAGES.
 */
static inline struct grant_entry_v1 *gnt_setup_frames_expect(void *pages, xen_pfn_t *frames,
                                                             unsigned int n)
{
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = n };

    set_xen_guest_handle(st.frame_list, frames);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    for (unsigned int i = 0; i < n; i++)
        EXPECT_EQ(hyp_update_va_mapping((unsigned long)pages + i * 4096UL,
                                        (frames[i] << 12) | PTE_DATA_RW, UVMF_INVLPG), 0);
    return pages;
}

/*
 * Grants domain TO access (read-write) to our page VA in entry REF of
 * TABLE; the flags are stored last, so TO never sees a half-made entry.
 */
static inline void gnt_permit(struct grant_entry_v1 *table, unsigned int ref, domid_t to,
                              const void *va)
{
    table[ref].domid = to;
    table[ref].frame = (uint32_t)pt_mfn_of(va);
    __atomic_store_n(&table[ref].flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);
}

/*
 * Maps *MAP (GNTTABOP_map_grant_ref), retrying every 5 ms while the grant
 * is not there yet (status not GNTST_okay) until system time END; returns
 * the last status. The caller checks it.
 */
static inline int16_t gnt_map_retry(struct gnttab_map_grant_ref *map, uint64_t end)
{
    while (hyp_grant_table_op(GNTTABOP_map_grant_ref, map, 1) == 0 && map->status != GNTST_okay &&
           evt_now() < end) {
        evt_sleep_ms(5);
        map->status = 0;
    }
    return map->status;
}

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
