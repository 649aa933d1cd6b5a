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

void test_main(void)
{
    uint32_t n1 = 0, e1 = 0, n = 0, idx = 0;
    long rc1, rc2, rc3, rc4, rc5, rc6, rc7;

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
    EXPECT_EQ(rc2, 0);
    EXPECT_EQ(rc3, 0);
    EXPECT_EQ(nf, n1);
    EXPECT_EQ(ef, e1);
    EXPECT_EQ(nold, n1);
    EXPECT_EQ(eold, e1);

    TEST("count 0xffffffff: the whole ring");
    uint32_t nh = 0, eh = 0;
    rc1 = readcon(all, BIG, 0, 0, &e1, &n1);
    rc2 = readcon(rest, 0xffffffffu, 0, 0, &eh, &nh);
    EXPECT_EQ(rc1, 0);
    EXPECT_EQ(rc2, 0);
    EXPECT_EQ(nh, n1);
    EXPECT_EQ(eh, e1);
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
    EXPECT_EQ(rc4, 0);
    EXPECT_EQ(nh, n1);
    EXPECT_EQ(eh, e1);

/* Each case spelled out: three reads and their indices, compared by hand with Xen's. */
    TEST("clear after reading 16 bytes forgets those 16 only (as Xen)");
    uint32_t i16 = 0, n16 = 0, er = 0, nr = 0;
    rc5 = readcon(all, BIG, 0, 0, &e1, &n1);
    rc6 = readcon(first16, 16, 1, 0, &i16, &n16);
    rc7 = readcon(rest, BIG, 0, 0, &er, &nr);
    EXPECT_EQ(rc5, 0);
    EXPECT_EQ(rc6, 0);
    EXPECT_EQ(n16, 16);
    EXPECT_EQ(i16, e1 - n1 + 16);
    EXPECT_EQ(guest_memcmp(first16, all, 16), 0);
    EXPECT_EQ(rc7, 0);
    EXPECT_EQ(er, e1);
    guest_printf("     after clear: %u of %u bytes left\n", nr, n1);
    EXPECT_EQ(nr, n1 - 16);
    EXPECT(nr == n1 - 16 && guest_memcmp(rest, all + 16, nr) == 0);

    TEST("count 0 with clear=1, not incremental: index = the oldest, nothing cleared (as Xen)");
    uint32_t na = 0, ea = 0, i0 = 12345, n0 = 99, nb = 0, eb = 0;
    rc1 = readcon(all, BIG, 0, 0, &ea, &na);
    rc2 = readcon(first16, 0, 1, 0, &i0, &n0);
    rc3 = readcon(rest, BIG, 0, 0, &eb, &nb);
    EXPECT_EQ(rc1, 0);
    EXPECT_EQ(rc2, 0);
    EXPECT_EQ(rc3, 0);
    EXPECT_EQ(n0, 0);
    EXPECT_EQ(i0, ea - na);
    EXPECT_EQ(eb, ea);
    EXPECT_EQ(nb, na);
}
