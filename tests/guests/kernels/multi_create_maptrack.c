/*
 * multi_create_maptrack (the initial domain alone, its own image as
 * --initrd; pvkit only: PVKIT_DOMCTL_create_pv): children that die holding
 * a full maptrack.
 *
 * Why: a domain's maptrack grows to 128 hypervisor pages (16384 mappings)
 * and the mappings pin the granter's entries and reference its frames; when
 * the mapper dies holding them all, destroying it must give back every
 * maptrack page, every pin and every page reference, in one go or in
 * steps, and leave the hypervisor working.
 *
 * We grant 16376 entries of a 32-frame table to each child (read-only, one
 * data frame) and one entry writable (another frame). The child host-maps
 * the writable one at a page of its own, then device-maps 16448 in one
 * batch: exactly 16383 must succeed (16384 with the host mapping), with
 * unique handles < 16384, the rest GNTST_no_space; it then shuts down
 * holding them all (the first child powers off, the second crashes, the
 * third powers off again). After each destroy: the machine's free pages are
 * those before the create, no entry of ours has GTF_reading/GTF_writing
 * left, the writable frame pins as an L1 (no writable type reference
 * left), and the next child gets exactly as many mappings.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "create.h"
#include "pt.h"
#include "gnt.h"

#define FRAMES 32
#define ENTRIES (FRAMES * 512)
#define FIRST_REF 8
#define NREFS (ENTRIES - FIRST_REF)
#define RW_REF 5
#define LIMIT 16384
#define MANY (LIMIT + 64)
#define CHILDREN 3

static char pool[8][4096] __attribute__((aligned(4096)));
static char tbl[FRAMES][4096] __attribute__((aligned(4096)));
static uint8_t data[4096] __attribute__((aligned(4096)));
static uint8_t data2[4096] __attribute__((aligned(4096)));
static uint8_t hostpage[4096] __attribute__((aligned(4096)));
static struct grant_entry_v1 *table;
static struct gnttab_map_grant_ref ops[MANY];
static uint8_t seen[LIMIT];

/* The child: map everything dom0 granted us, report, die holding it all. */
static void child(void)
{
    unsigned int ok = 0, no_space = 0, other = 0, bad_handle = 0;
    struct gnttab_map_grant_ref h = { .host_addr = (unsigned long)hostpage,
                                      .flags = GNTMAP_host_map, .ref = RW_REF, .dom = 0 };

    long rc = hyp_grant_table_op(GNTTABOP_map_grant_ref, &h, 1);
    if (rc || h.status != GNTST_okay || hostpage[0] != 0x5a)
        guest_printf("multi_create_maptrack child: host map rc %ld status %d\n", rc, h.status);
    else
        hostpage[1] = 0x77;                     /* lands in dom0's data2 */
    for (unsigned int i = 0; i < MANY; i++)
        ops[i] = (struct gnttab_map_grant_ref){ .flags = GNTMAP_device_map | GNTMAP_readonly,
                                                .ref = FIRST_REF + i % NREFS, .dom = 0 };
    rc = hyp_grant_table_op(GNTTABOP_map_grant_ref, ops, MANY);
    for (unsigned int i = 0; i < MANY; i++) {
        if (ops[i].status == GNTST_okay) {
            ok++;
            if (ops[i].handle >= LIMIT || seen[ops[i].handle]++ ||
                ops[i].handle == h.handle)
                bad_handle++;
        } else if (ops[i].status == GNTST_no_space) {
            no_space++;
        } else {
            other++;
        }
    }
    int good = !rc && h.status == GNTST_okay && ok == LIMIT - 1 && no_space == MANY - ok &&
                !other && !bad_handle;
    guest_printf("multi_create_maptrack child: rc %ld, %u mapped, %u GNTST_no_space, %u other, "
                 "%u bad handles: %s\n", rc, ok, no_space, other, bad_handle,
                 good ? "good" : "BAD");
    if (!good)
        guest_shutdown(SHUTDOWN_reboot);        /* the parent sees the wrong reason */
    guest_shutdown(evt_cmdline_num("crash", 0) ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}

static void grant(unsigned int ref, unsigned long mfn, domid_t to, uint16_t extra)
{
    table[ref].domid = to;
    table[ref].frame = (uint32_t)mfn;
    __atomic_store_n(&table[ref].flags, (uint16_t)(GTF_permit_access | extra), __ATOMIC_SEQ_CST);
}

static unsigned int busy_entries(void)
{
    unsigned int busy = 0;
    for (unsigned int r = 0; r < ENTRIES; r++)
        busy += !!(__atomic_load_n(&table[r].flags, __ATOMIC_SEQ_CST) & (GTF_reading | GTF_writing));
    return busy;
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1)
        child();
    pt_pool_init(pool[0], 8);
    TEST("setup");
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared || !EXPECT(guest_start_info->mod_len > 4096))
        return;
    evt_enable();
    long dom_exc = evt_bind_virq(VIRQ_DOM_EXC, 0);
    EXPECT(dom_exc > 0);
    static xen_pfn_t frames[FRAMES];
    table = gnt_setup_frames_expect(tbl, frames, FRAMES);

    for (unsigned int c = 0; c < CHILDREN; c++) {
        int crash = c == 1;
        TEST(crash ? "a child maps 16384, crashes holding them; destroyed, all comes back"
                   : "a child maps 16384, powers off holding them; destroyed, all comes back");
        uint64_t free0 = free_pages();
        struct xen_domctl op;
        create_child_op(&op, 0, 16384,
                        crash ? "multi_create_maptrack role=1 crash=1" : "multi_create_maptrack role=1");
        if (!EXPECT_EQ(hyp_domctl(&op), 0))
            return;
        domid_t id = op.domain;
        for (unsigned int r = FIRST_REF; r < ENTRIES; r++)
            grant(r, pt_mfn_of(data), id, GTF_readonly);
        data2[0] = 0x5a;
        data2[1] = 0;
        grant(RW_REF, pt_mfn_of(data2), id, 0);
        EXPECT_EQ(create_run_to_shutdown(dom_exc, id), crash ? SHUTDOWN_crash : SHUTDOWN_poweroff);
        uint64_t dead = free_pages();
        EXPECT_EQ(busy_entries() > 0, 1);       /* the dead child still holds them */
        EXPECT_EQ(__atomic_load_n(&data2[1], __ATOMIC_SEQ_CST), 0x77);
        EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
        uint64_t after = free_pages();
        guest_printf("     d%u: %lu pages free before, %lu while shut down, %lu after the destroy\n",
                     id, (unsigned long)free0, (unsigned long)dead, (unsigned long)after);
        EXPECT_EQ(after, free0);
        EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id, 0);
        EXPECT_EQ(busy_entries(), 0);
        memset(data2, 0, sizeof(data2));
        for (unsigned int r = 0; r < ENTRIES; r++)
            __atomic_store_n(&table[r].flags, 0, __ATOMIC_SEQ_CST);
        EXPECT_EQ(pt_map_ro(data2), 0);
        EXPECT_EQ(pt_pin(1, data2), 0);          /* no writable type reference left */
        EXPECT_EQ(pt_release(data2), 0);
    }
    evt_disable();
}
