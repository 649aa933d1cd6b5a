/*
 * sysctl_readconsole (the initial domain alone; runs on Xen 4.17 too):
 * XEN_SYSCTL_readconsole, the hypervisor's log ring, as Xen's
 * read_console_ring (xen/drivers/char/console.c) answers it.
 *
 * Nothing is printed between the reads of one check (our own console
 * output goes into the ring on both hypervisors), so the ring stands still.
 *   - a whole read (not incremental): count bytes from the oldest, index
 *     just past them; an incremental read from that index finds nothing;
 *   - clear with a small buffer: Xen's clear forgets what was read, not what
 *     was not -- after reading 16 bytes with clear=1, a whole read returns
 *     the rest, starting at byte 16 of the first read (libxl's `xl dmesg -c`
 *     reads the ring in 8 KiB pieces with clear set on each);
 *   - incremental from an index in the future or long gone: from the oldest;
 *   - count 0xffffffff (a buffer larger than the ring): the whole ring;
 *   - a buffer that runs into an unmapped page: -EFAULT, and the ring not
 *     cleared even with clear=1 (nothing read, nothing forgotten);
 *   - count 0 with clear=1, not incremental: nothing read, so nothing
 *     cleared, and the index answered is the oldest byte's.
 *
 * Found (pvkit at 6ed41a5): log_ring_clear() (hypervisor/common/console.c)
 * sets log_ring_first = log_ring_prod, forgetting the whole ring whatever the
 * caller read; read_console (hypervisor/common/domctl.c) calls it after the
 * copy. Xen 4.17 sets conringc to the index the read stopped at
 * (`conringc = p - c > conring_size ? p - conring_size : c`). And with count
 * 0 read_console leaves the caller's index in the answer where Xen gives
 * the oldest byte's (a non-incremental read starts there).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "pt.h"

#define BIG (256u << 10)

static char all[BIG];
static char rest[BIG];
static char first16[16];
static char edge[2][4096] __attribute__((aligned(4096)));

/* One readconsole: returns rc; *count and *index are the answer's. */
static long readcon(char *buf, uint32_t count, int clear, int incremental, uint32_t *index,
                    uint32_t *got)
{
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_readconsole,
                            .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    s.u.readconsole.clear = (uint8_t)clear;
    s.u.readconsole.incremental = (uint8_t)incremental;
    s.u.readconsole.count = count;
    s.u.readconsole.index = index ? *index : 0;
    set_xen_guest_handle(s.u.readconsole.buffer, buf);
    long rc = hyp_sysctl(&s);
    if (rc == 0) {
        if (index)
            *index = s.u.readconsole.index;
        if (got)
            *got = s.u.readconsole.count;
    }
    return rc;
}

/* A read that answered the whole ring as the reference read did: rc 0, the
 * reference's count (n) and index (e). */
static void expect_whole(long rc, uint32_t e, uint32_t n, uint32_t ref_e, uint32_t ref_n)
{
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(n, ref_n);
    EXPECT_EQ(e, ref_e);
}

/* The three reads of a clear check and what they answered. */
struct clear_check {
    uint32_t whole_e, whole_n;  /* the whole read before */
    uint32_t index, got;        /* the clearing read's (index: in and out) */
    long after_rc;              /* the whole read after */
    uint32_t after_e, after_n;
};

/*
 * A whole read into all, a read of count bytes into first16 with clear=1
 * (not incremental), a whole read into rest: nothing printed between them.
 * The first two must succeed (checked); the rest is the caller's to check.
 */
static void clear_check(uint32_t count, struct clear_check *c)
{
    long whole_rc = readcon(all, BIG, 0, 0, &c->whole_e, &c->whole_n);
    long clear_rc = readcon(first16, count, 1, 0, &c->index, &c->got);

    c->after_rc = readcon(rest, BIG, 0, 0, &c->after_e, &c->after_n);
    EXPECT_EQ(whole_rc, 0);
    EXPECT_EQ(clear_rc, 0);
}

void test_main(void)
{
    uint32_t n1 = 0, e1 = 0, n = 0, idx = 0;
    long rc1, rc2, rc3, rc4;

    TEST("a whole read, then an incremental read from its end finds nothing");
    rc1 = readcon(all, BIG, 0, 0, &e1, &n1);
    idx = e1;
    rc2 = readcon(rest, 100, 0, 1, &idx, &n);
    EXPECT_EQ(rc1, 0);
    EXPECT(n1 > 200 && n1 < BIG);
    EXPECT_EQ(rc2, 0);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(idx, e1);
    guest_printf("     ring holds %u bytes, index %u\n", n1, e1);

    TEST("incremental from the future, or from long ago: from the oldest");
    uint32_t nf = 0, nold = 0, ef = e1 + 1000, eold = e1 - 0x80000000u;
    rc1 = readcon(all, BIG, 0, 0, &e1, &n1); /* again: the print above went in */
    rc2 = readcon(rest, BIG, 0, 1, &ef, &nf);
    rc3 = readcon(rest, BIG, 0, 1, &eold, &nold);
    EXPECT_EQ(rc1, 0);
    expect_whole(rc2, ef, nf, e1, n1);
    expect_whole(rc3, eold, nold, e1, n1);

    TEST("count 0xffffffff: the whole ring");
    uint32_t nh = 0, eh = 0;
    rc1 = readcon(all, BIG, 0, 0, &e1, &n1);
    rc2 = readcon(rest, 0xffffffffu, 0, 0, &eh, &nh);
    EXPECT_EQ(rc1, 0);
    expect_whole(rc2, eh, nh, e1, n1);
    EXPECT_EQ(guest_memcmp(all, rest, n1), 0);

    TEST("a buffer running into an unmapped page: -EFAULT, nothing cleared");
    uint64_t pte = *pt_entry((unsigned long)edge[1], 1);
    long unmap = hyp_update_va_mapping((unsigned long)edge[1], 0, UVMF_INVLPG);
    rc1 = readcon(all, BIG, 0, 0, &e1, &n1);
    rc2 = readcon(edge[0] + 4000, 200, 0, 0, NULL, NULL);
    rc3 = readcon(edge[0] + 4000, 200, 1, 0, NULL, NULL); /* clear asked: must not happen */
    rc4 = readcon(rest, BIG, 0, 0, &eh, &nh);
    long remap = hyp_update_va_mapping((unsigned long)edge[1], pte, UVMF_INVLPG);
    EXPECT_EQ(unmap, 0);
    EXPECT_EQ(remap, 0);
    EXPECT_EQ(rc1, 0);
    EXPECT_EQ(rc2, -XEN_EFAULT);
    EXPECT_EQ(rc3, -XEN_EFAULT);
    expect_whole(rc4, eh, nh, e1, n1);

    TEST("clear after reading 16 bytes forgets those 16 only (as Xen)");
    struct clear_check c16 = { .index = 0, .got = 0 };
    clear_check(16, &c16);
    EXPECT_EQ(c16.got, 16);
    EXPECT_EQ(c16.index, c16.whole_e - c16.whole_n + 16);
    EXPECT_EQ(guest_memcmp(first16, all, 16), 0);
    EXPECT_EQ(c16.after_rc, 0);
    EXPECT_EQ(c16.after_e, c16.whole_e);
    guest_printf("     after clear: %u of %u bytes left\n", c16.after_n, c16.whole_n);
    EXPECT_EQ(c16.after_n, c16.whole_n - 16);
    EXPECT(c16.after_n == c16.whole_n - 16 &&
           guest_memcmp(rest, all + 16, c16.after_n) == 0);

    TEST("count 0 with clear=1, not incremental: index = the oldest, nothing cleared (as Xen)");
    struct clear_check c0 = { .index = 12345, .got = 99 };
    clear_check(0, &c0);
    EXPECT_EQ(c0.got, 0);
    EXPECT_EQ(c0.index, c0.whole_e - c0.whole_n);
    expect_whole(c0.after_rc, c0.after_e, c0.after_n, c0.whole_e, c0.whole_n);
}
