/*
 * Tests hypervisor/common/audit.c, the frame-table audit: on a small
 * machine whose tables are built with the real pagetype.c, a consistent
 * state audits clean (exactly), and each kind of damage the audit exists to
 * find is reported: a reference missing, a reference leaked, a frame of a
 * domain that no longer exists, a table entry naming a frame of the wrong
 * type, a free frame with counts, a wrong free count, an interdomain event
 * channel whose peer does not name it back, grant pins no mapping holds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "pvkit/audit.h"
#include "pvkit/domain.h"
#include "pvkit/pagetype.h"
#include "pvkit/mm.h"

#define NR      32            /* frames in the test's machine */
#define DOM_ID  1
#define PEER_ID 2
#define L4 8                  /* d's tree: L4 -> L3 -> L2 -> L1 -> DATA (writable) */
#define L3 9
#define L2 10
#define L1 11
#define DATA 12
#define GNT 13                /* d's grant-table frame */
#define FREE_FIRST 20         /* frames [FREE_FIRST, NR) are free */

/* ---- the symbols audit.c and pagetype.c need from the rest of the hypervisor ---- */

struct frame_table frame_table;
uint64_t *idle_l4;
static uint64_t pages[NR][PT_ENTRIES] __attribute__((aligned(4096)));
static struct frame storage[NR];
static struct domain d = { .id = DOM_ID }, peer = { .id = PEER_ID };
static struct grant_active active[GRANT_PER_FRAME];
static unsigned int lines;      /* mismatch lines printed */

void *frame_page(uint64_t mfn)
{
    assert_true(mfn < NR);
    return pages[mfn];
}

/* The test's L4s have no hypervisor slots (the audit skips them anyway); no TLBs to flush. */
void install_hv_l4_slots(uint64_t *l4) { (void)l4; }
void flush_tlb_domain(struct domain *dom) { dom->tlb_epoch++; }
void flush_tlb_all(void) {}
bool table_work_preempt(void) { return false; }

struct domain *domain_slot(unsigned int i)
{
    return i == 0 ? &d : i == 1 ? &peer : NULL;
}

struct domain *domain_find(domid_t id)
{
    return id == DOM_ID ? &d : id == PEER_ID ? &peer : NULL;
}

/* Counts the audit's mismatch lines (and shows every line). */
void printk(enum log_level lvl, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    (void)lvl;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    lines += strstr(buf, "audit mismatch") != NULL;
    fputs(buf, stdout);
}

/* ---- the machine ---- */

/* Builds d's pinned tree mapping DATA writable and its grant frame, peer idle; all consistent. */
static int setup(void **state)
{
    (void)state;
    memset(pages, 0, sizeof(pages));
    memset(active, 0, sizeof(active));
    frames_init(&frame_table, storage, NR);
    for (uint64_t m = 0; m < FREE_FIRST; m++)
        storage[m] = (struct frame){ .owner = m < L4 ? OWNER_RESERVED : DOM_ID,
                                     .next_free = FRAME_NO_NEXT };
    frames_add_free(&frame_table, FREE_FIRST, NR);
    pte_nx_mask = PTE_NX;
    phys_addr_bits = 36;
    d = (struct domain){ .id = DOM_ID, .release_head = FRAME_NO_NEXT };
    peer = (struct domain){ .id = PEER_ID, .release_head = FRAME_NO_NEXT };
    pages[L1][0] = (DATA << 12) | PTE_P | PTE_RW;
    pages[L2][0] = (L1 << 12) | PTE_P | PTE_RW;
    pages[L3][0] = (L2 << 12) | PTE_P | PTE_RW;
    pages[L4][0] = (L3 << 12) | PTE_P | PTE_RW;
    assert_int_equal(get_page_and_type(&d, L4, FRAME_TYPE_L4), 0);
    storage[L4].flags |= FRAME_PINNED;
    assert_int_equal(get_page_and_type(&d, GNT, FRAME_TYPE_WRITABLE), 0);
    d.grant_table.nr_frames = 1;
    d.grant_table.frames[0] = GNT;
    d.grant_table.active[0] = active;
    lines = 0;
    return 0;
}

static void consistent_state_is_clean(void **state)
{
    (void)state;
    assert_int_equal(audit_run("test"), 0);
    assert_int_equal(lines, 0);
}

static void missing_reference_found(void **state)
{
    (void)state;
    storage[DATA].ref_count--;  /* also below its type count: two lines */
    assert_int_equal(audit_run("test"), 2);
    assert_int_equal(lines, 2);
    setup(NULL);
    storage[L4].ref_count--;    /* pinned: type count 1 of ref 1 now */
    storage[L4].type_count--;
    assert_int_equal(audit_run("test"), 1);
}

static void leaked_reference_found(void **state)
{
    (void)state;
    storage[L2].ref_count++;
    storage[L2].type_count++;
    assert_int_equal(audit_run("test"), 1);
}

static void frame_of_dead_domain_found(void **state)
{
    (void)state;
    storage[5] = (struct frame){ .owner = 7, .next_free = FRAME_NO_NEXT };
    assert_int_equal(audit_run("test"), 1);
}

static void entry_of_wrong_type_found(void **state)
{
    (void)state;
    storage[L1].type = FRAME_TYPE_L2; /* the L2 entry needs an L1 */
    assert_true(audit_run("test") >= 1);
}

static void free_list_damage_found(void **state)
{
    (void)state;
    storage[FREE_FIRST].ref_count = 1;
    assert_int_equal(audit_run("test"), 1);
    storage[FREE_FIRST].ref_count = 0;
    frame_table.nr_free++;
    assert_int_equal(audit_run("test"), 1);
}

static void one_sided_event_channel_found(void **state)
{
    (void)state;
    d.evtchn[3] = (struct evtchn){ .state = EVTCHNSTAT_interdomain, .remote_dom = PEER_ID,
                                   .remote_port = 5 };
    assert_int_equal(audit_run("test"), 1);
    peer.evtchn[5] = (struct evtchn){ .state = EVTCHNSTAT_interdomain, .remote_dom = DOM_ID,
                                      .remote_port = 3 };
    assert_int_equal(audit_run("test"), 0);
    d.evtchn[3].remote_dom = 9; /* a peer that is gone: and the peer's end is one-sided now */
    assert_int_equal(audit_run("test"), 2);
}

static void grant_pins_without_mapping_found(void **state)
{
    (void)state;
    active[4].pins_rw = 1;
    assert_int_equal(audit_run("test"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(consistent_state_is_clean, setup),
        cmocka_unit_test_setup(missing_reference_found, setup),
        cmocka_unit_test_setup(leaked_reference_found, setup),
        cmocka_unit_test_setup(frame_of_dead_domain_found, setup),
        cmocka_unit_test_setup(entry_of_wrong_type_found, setup),
        cmocka_unit_test_setup(free_list_damage_found, setup),
        cmocka_unit_test_setup(one_sided_event_channel_found, setup),
        cmocka_unit_test_setup(grant_pins_without_mapping_found, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
