/*
 * grant_self: grant tables version 1, with the initial domain granting pages
 * to itself (so the same kernel runs as Xen 4.17's dom0).
 *
 * Why: every split driver rides on grants: a frontend grants its ring and
 * data pages, the backend maps them (Linux's three map variants: a linear
 * kernel address, the machine address of an L1 entry with contains_pte, and
 * read-only forms of both) or copies through them; the GTF_reading and
 * GTF_writing bits tell the granter when it may take a grant back. The
 * hypervisor must keep the granted frame alive and untyped as a table while
 * mapped, and refuse every malformed request with Xen's status, never crash.
 *
 * Checks: query_size (a frame, a maximum of at least 4); set_version(1) and
 * get_version; setup_table returns the table's frames (mappable writable),
 * grows to 2, refuses more than the maximum; a writable map at a linear
 * address (the data shows through it, writes land, GTF_reading|GTF_writing
 * set, dev_bus_addr = frame, the granter cannot revoke meanwhile, the frame
 * cannot be pinned as a table while mapped), its unmap
 * (flags clear, the address no longer maps it); a read-only map (writes
 * fault, only GTF_reading); a contains_pte map through the machine address
 * of an L1 entry; grant copy both ways and between two grants; hostile: ref
 * beyond the table, never granted, granted to another domain, read-only
 * grant mapped writable or copied into, no host/device flag, absent domain,
 * contains_pte at a data page or misaligned, copy across a page end, a
 * frame side naming another domain or a frame not ours, unmap with a wrong
 * host_addr (the mapping stays), a stale handle, handle ~0; a device
 * mapping unmapped with dev_bus_addr 0 stays (as Xen), with a wrong one is
 * refused, with its own goes; 1100 maps of
 * distinct grants: all succeed, or the refusals are GNTST_no_space after
 * at least 1024 (pvkit's old maptrack limit; now 16384, as grant_maptrack checks), and after all are
 * unmapped no entry is left busy.
 */
#include "traps.h"
#include "pt.h"
#include <xen/grant_table.h>

#define SELF_DOMID 0            /* the initial domain */
#define REF 10                  /* refs 0-7 are reserved */
#define MANY 1100

static char pool[24][4096] __attribute__((aligned(4096)));
static uint8_t data[4096] __attribute__((aligned(4096)));
static uint8_t data2[4096] __attribute__((aligned(4096)));
static struct grant_entry_v1 *table;   /* our grant table, frames 0 and 1 (and 2, 3) */
static unsigned long table_mfn[4];

/* Grants frame `mfn` to `domid` at ref (flags = GTF_permit_access | extra). */
static void grant(unsigned int ref, unsigned long mfn, domid_t domid, uint16_t extra)
{
    table[ref].domid = domid;
    table[ref].frame = (uint32_t)mfn;
    __atomic_store_n(&table[ref].flags, (uint16_t)(GTF_permit_access | extra), __ATOMIC_SEQ_CST);
}

/* Takes ref back the way Linux does: only if neither reading nor writing. */
static int revoke(unsigned int ref)
{
    uint16_t flags = __atomic_load_n(&table[ref].flags, __ATOMIC_SEQ_CST);
    if (flags & (GTF_reading | GTF_writing))
        return 0;
    return __atomic_compare_exchange_n(&table[ref].flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

static struct gnttab_map_grant_ref map_op(uint64_t host_addr, uint32_t flags, uint32_t ref,
                                          domid_t dom)
{
    return (struct gnttab_map_grant_ref){ .host_addr = host_addr, .flags = flags, .ref = ref,
                                          .dom = dom };
}

static int16_t map1(struct gnttab_map_grant_ref *op)
{
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, op, 1), 0);
    return op->status;
}

static int16_t unmap_dev(uint64_t host_addr, uint64_t dev_bus_addr, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = host_addr, .dev_bus_addr = dev_bus_addr,
                                         .handle = handle };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

static int16_t unmap1(uint64_t host_addr, grant_handle_t handle)
{
    return unmap_dev(host_addr, 0, handle);
}

static void test_table(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    struct gnttab_set_version sv = { .version = 1 };
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    xen_pfn_t frames[4] = { 0 };
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };

    TEST("query_size, versions, setup_table");
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
    guest_printf("     nr_frames %u, max_nr_frames %u\n", q.nr_frames, q.max_nr_frames);
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT(q.nr_frames >= 1);
    EXPECT(q.max_nr_frames >= 4);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), 0);
    EXPECT_EQ(sv.version, 1);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_get_version, &gv, 1), 0);
    EXPECT_EQ(gv.version, 1);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_query_size, &q, 2), -XEN_EINVAL);
    set_xen_guest_handle(st.frame_list, frames);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    st.nr_frames = 4;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    st.nr_frames = q.max_nr_frames + 1;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT(st.status != GNTST_okay);
    /* Our table: four frames mapped writable at consecutive pool pages. */
    table = (struct grant_entry_v1 *)pool[0];
    for (int i = 0; i < 4; i++) {
        table_mfn[i] = frames[i];
        EXPECT_EQ(hyp_update_va_mapping((unsigned long)pool[i], (frames[i] << 12) | PTE_DATA_RW,
                                        UVMF_INVLPG), 0);
    }
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
    EXPECT_EQ(q.nr_frames, 4);
}

static void test_map_linear(void)
{
    uint8_t *va = (uint8_t *)pool[8];
    struct gnttab_map_grant_ref op;

    TEST("map writable at a linear address, unmap");
    data[0] = 0x5a;
    data[4095] = 0xa5;
    grant(REF, pt_mfn_of(data), SELF_DOMID, 0);
    op = map_op((unsigned long)va, GNTMAP_host_map, REF, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_okay);
    EXPECT_EQ(op.dev_bus_addr, pt_mfn_of(data) << 12);
    EXPECT(op.handle != 0xffffffffu);
    EXPECT_EQ(va[0], 0x5a);
    EXPECT_EQ(va[4095], 0xa5);
    va[1] = 0x77;
    __asm__ volatile("" ::: "memory");  /* va and data are one frame now */
    EXPECT_EQ(data[1], 0x77);
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
    EXPECT(!revoke(REF));
    EXPECT_EQ(pt_pin(1, data), -XEN_EINVAL);        /* mapped writable: never a table */
    EXPECT_EQ(unmap1((unsigned long)va, op.handle), GNTST_okay);
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), 0);
    EXPECT_EQ(TRAP_PROBE_RAX("movb (%%rax), %%al", va), 1);         /* no longer mapped */
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(unmap1((unsigned long)va, op.handle), GNTST_bad_handle);
    EXPECT_EQ(pt_map_rw(va), 0);

    TEST("map read-only: writes fault, only GTF_reading");
    op = map_op((unsigned long)va, GNTMAP_host_map | GNTMAP_readonly, REF, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_okay);
    EXPECT_EQ(va[1], 0x77);
    EXPECT_EQ(TRAP_PROBE_RAX("movb %%al, (%%rax)", va), 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), GTF_reading);
    EXPECT_EQ(unmap1((unsigned long)va, op.handle), GNTST_okay);
    EXPECT(revoke(REF));
    EXPECT_EQ(pt_map_rw(va), 0);
}

static void test_map_contains_pte(void)
{
    uint8_t *va = (uint8_t *)pool[9];
    uint64_t pte_ma = pt_entry_ma((unsigned long)va, 1);
    struct gnttab_map_grant_ref op;

    TEST("map through the machine address of an L1 entry (contains_pte)");
    data[2] = 0x33;
    __asm__ volatile("" ::: "memory");
    grant(REF, pt_mfn_of(data), SELF_DOMID, 0);
    op = map_op(pte_ma, GNTMAP_host_map | GNTMAP_contains_pte | GNTMAP_application_map, REF,
                SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_okay);
    pt_invlpg((unsigned long)va);
    EXPECT_EQ(va[2], 0x33);
    EXPECT_EQ(unmap1((unsigned long)va, op.handle), GNTST_general_error); /* wrong form */
    EXPECT_EQ(va[2], 0x33);                                              /* still mapped */
    EXPECT_EQ(unmap1(pte_ma, op.handle), GNTST_okay);
    EXPECT(revoke(REF));
    EXPECT_EQ(pt_map_rw(va), 0);
}

static void test_map_hostile(void)
{
    uint8_t *va = (uint8_t *)pool[10];
    struct gnttab_map_grant_ref op;
    uint32_t nr = 4 * 512;

    TEST("hostile maps get Xen's status");
    grant(REF, pt_mfn_of(data), SELF_DOMID, 0);
    op = map_op((unsigned long)va, GNTMAP_host_map, nr, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_bad_gntref);                 /* beyond the table */
    op = map_op((unsigned long)va, GNTMAP_host_map, REF + 1, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_general_error);              /* never granted */
    grant(REF + 2, pt_mfn_of(data), 5, 0);
    op = map_op((unsigned long)va, GNTMAP_host_map, REF + 2, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_general_error);              /* granted to domain 5 */
    grant(REF + 3, pt_mfn_of(data), SELF_DOMID, GTF_readonly);
    op = map_op((unsigned long)va, GNTMAP_host_map, REF + 3, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_general_error);              /* read-only grant, writable map */
    op = map_op((unsigned long)va, 0, REF, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_bad_gntref);                 /* neither host nor device */
    op = map_op((unsigned long)va, GNTMAP_host_map, REF, 999);
    EXPECT_EQ(map1(&op), GNTST_bad_domain);
    op = map_op(pt_ma_of(data2), GNTMAP_host_map | GNTMAP_contains_pte, REF, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_general_error);              /* "PTE" in a data page */
    op = map_op(pt_entry_ma((unsigned long)va, 1) + 4, GNTMAP_host_map | GNTMAP_contains_pte,
                REF, SELF_DOMID);
    EXPECT_EQ(map1(&op), GNTST_general_error);              /* misaligned */
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), 0);
    EXPECT_EQ(unmap1((unsigned long)va, 0xffffffffu), GNTST_bad_handle);
    EXPECT_EQ(unmap1((unsigned long)va, 12345), GNTST_bad_handle);
    EXPECT(revoke(REF));
    EXPECT(revoke(REF + 2));
    EXPECT(revoke(REF + 3));
}

static int16_t copy1(struct gnttab_copy *c)
{
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_copy, c, 1), 0);
    return c->status;
}

static void test_copy(void)
{
    struct gnttab_copy c;

    TEST("grant copy");
    grant(REF, pt_mfn_of(data), SELF_DOMID, 0);
    grant(REF + 1, pt_mfn_of(data2), SELF_DOMID, GTF_readonly);
    memset(data, 0x11, 4096);
    memset(data2, 0x22, 4096);
    c = (struct gnttab_copy){ .flags = GNTCOPY_source_gref, .len = 100 };
    c.source.u.ref = REF + 1;
    c.source.domid = SELF_DOMID;
    c.source.offset = 8;
    c.dest.u.gmfn = pt_mfn_of(data);
    c.dest.domid = DOMID_SELF;
    c.dest.offset = 16;
    EXPECT_EQ(copy1(&c), GNTST_okay);                       /* gref -> own frame */
    EXPECT_EQ(data[15], 0x11);
    EXPECT_EQ(data[16], 0x22);
    EXPECT_EQ(data[115], 0x22);
    EXPECT_EQ(data[116], 0x11);
    data2[0] = 0x44;
    c = (struct gnttab_copy){ .flags = GNTCOPY_dest_gref, .len = 1 };
    c.source.u.gmfn = pt_mfn_of(data2);
    c.source.domid = DOMID_SELF;
    c.dest.u.ref = REF;
    c.dest.domid = SELF_DOMID;
    c.dest.offset = 4095;
    EXPECT_EQ(copy1(&c), GNTST_okay);                       /* own frame -> gref */
    EXPECT_EQ(data[4095], 0x44);
    c.flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    c.source.u.ref = REF + 1;
    c.source.domid = SELF_DOMID;
    EXPECT_EQ(copy1(&c), GNTST_okay);                       /* gref -> gref */
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), 0);
    EXPECT_EQ(table[REF + 1].flags & (GTF_reading | GTF_writing), 0);

    TEST("hostile copies");
    c.len = 2;                                              /* 4095 + 2 > 4096 */
    EXPECT_EQ(copy1(&c), GNTST_bad_copy_arg);
    c = (struct gnttab_copy){ .flags = GNTCOPY_source_gref, .len = 1 };
    c.source.u.ref = REF;
    c.source.domid = SELF_DOMID;
    c.dest.u.gmfn = pt_mfn_of(data2);
    c.dest.domid = 7;                                       /* frame side: no such domain */
    EXPECT_EQ(copy1(&c), GNTST_bad_domain);
    c.dest.domid = SELF_DOMID;                              /* as Xen: only DOMID_SELF */
    EXPECT_EQ(copy1(&c), GNTST_permission_denied);
    c.dest.domid = DOMID_SELF;
    c.dest.u.gmfn = (*pt_entry(MACH2PHYS_VIRT_START, 4) & PTE_MFN) >> 12; /* the M2P's L3 */
    EXPECT_EQ(copy1(&c), GNTST_bad_page);
    c = (struct gnttab_copy){ .flags = GNTCOPY_dest_gref, .len = 1 };
    c.source.u.gmfn = pt_mfn_of(data);
    c.source.domid = DOMID_SELF;
    c.dest.u.ref = REF + 1;                                 /* read-only grant as destination */
    c.dest.domid = SELF_DOMID;
    EXPECT(copy1(&c) != GNTST_okay);
    c.dest.u.ref = 4 * 512;
    EXPECT_EQ(copy1(&c), GNTST_bad_gntref);
    EXPECT_EQ(table[REF].flags & (GTF_reading | GTF_writing), 0);
    EXPECT(revoke(REF));
    EXPECT(revoke(REF + 1));
}

static struct gnttab_map_grant_ref many[MANY];

static void test_many(void)
{
    unsigned int ok = 0, no_space = 0, other = 0;

    TEST("1100 mappings: all, or GNTST_no_space past 1024; all released");
    for (unsigned int i = 0; i < MANY; i++) {
        grant(64 + i, pt_mfn_of(data), SELF_DOMID, GTF_readonly);
        many[i] = map_op(0, GNTMAP_device_map | GNTMAP_readonly, 64 + i, SELF_DOMID);
    }
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, many, MANY), 0);
    for (unsigned int i = 0; i < MANY; i++) {
        if (many[i].status == GNTST_okay)
            ok++;
        else if (many[i].status == GNTST_no_space && ok >= 1024)
            no_space++;
        else
            other++;
    }
    guest_printf("     %u mapped, %u GNTST_no_space, %u other\n", ok, no_space, other);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(ok + no_space, MANY);
    unsigned int busy = 0, unmapped = 0;
    for (unsigned int i = 0; i < MANY; i++) {
        if (many[i].status != GNTST_okay)
            continue;
        unmapped += unmap_dev(0, many[i].dev_bus_addr, many[i].handle) == GNTST_okay;
    }
    EXPECT_EQ(unmapped, ok);
    /* As Xen: a device mapping goes only with its dev_bus_addr (0 leaves it). */
    struct gnttab_map_grant_ref one = map_op(0, GNTMAP_device_map | GNTMAP_readonly, 64,
                                             SELF_DOMID);
    EXPECT_EQ(map1(&one), GNTST_okay);
    EXPECT_EQ(unmap_dev(0, 0, one.handle), GNTST_okay);
    EXPECT_EQ(table[64].flags & GTF_reading, GTF_reading);
    EXPECT_EQ(unmap_dev(0, one.dev_bus_addr + 4096, one.handle), GNTST_bad_dev_addr);
    EXPECT_EQ(unmap_dev(0, one.dev_bus_addr, one.handle), GNTST_okay);
    EXPECT_EQ(unmap_dev(0, one.dev_bus_addr, one.handle), GNTST_bad_handle);
    for (unsigned int i = 0; i < MANY; i++)
        busy += !revoke(64 + i);
    EXPECT_EQ(busy, 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool[12], 12);
    EXPECT_EQ(trap_install(-1), 0);
    trap_shared_info = pt_map_shared_info();
    EXPECT(guest_start_info->flags & SIF_INITDOMAIN);
    test_table();
    test_map_linear();
    test_map_contains_pte();
    test_map_hostile();
    test_copy();
    test_many();
}
