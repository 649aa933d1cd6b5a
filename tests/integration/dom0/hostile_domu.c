/*
 * hostile_domu: the misbehaving domU of check-dom0-pvkit-hostile-io
 * (pvkit-hostile-io-check.sh). `pvkit create` gives it two disks (xvda
 * read-write, xvdb read-only) and a vif, as it would a Linux domU; this
 * kernel then plays a hostile xen-blkfront and xen-netfront against dom0's
 * pvkit-blkback and pvkit-netback over the real transport: it sets up its
 * own grant table (GNTTABOP_setup_table), grants its ring and data pages
 * to dom0, allocates unbound event channels for dom0, writes the frontend
 * keys under device/vbd/<vdev> and device/vif/0 the way Linux does
 * (docs/linux-pv-interface.md §3), waits for the backends to connect, and
 * then misbehaves one case at a time, checking each answer:
 *
 *   vbd: unknown operation (EOPNOTSUPP); 0, 12 and 255 direct segments,
 *   first_sect > last_sect, last_sect 8, a grant never granted, a ref
 *   beyond the table, sectors past the end and a wrapping sector number,
 *   bad indirect requests, a write to the read-only disk, 2048 requests of
 *   grants never granted (all ERROR); a good write/read before and after
 *   (OKAY, data intact); a disconnect (state Closed) with the ring full of
 *   requests in flight (the backend follows to Closed); a producer index
 *   far ahead (device dropped: backend Closing); connects naming a ring-ref
 *   never granted or the x86_32 protocol (Closing), then a good reconnect.
 *   vif: a good frame (OKAY), sizes that lie, a slot past its page, a grant
 *   never granted, a runt, a csum_blank frame that is no IP, 2048 frames of
 *   grants never granted (ERROR, the vif goes on); a garbage RX producer
 *   (vif dropped); reconnect; a TX chain that never ends (NETTXF_more_data
 *   on every slot: vif dropped); connects naming a TX ring-ref never
 *   granted, request-rx-copy 0, 99 queues (Closing).
 *
 * Every case prints one console line "HOSTILE <case> ok|fail <detail>" (to
 * the hypervisor console: `pvkit dmesg` in dom0); then "HOSTILE end", a
 * data/done=1 node, a wait (up to 30 s) for dom0's data/go (dom0 looks at
 * its error nodes meanwhile), a ring full of reads pushed on xvdb, and a
 * deliberate crash (SHUTDOWN_crash) with them in flight.
 * Built with the test-kernel framework (tests/guests/lib), as xs_domu.c.
 */
#include "evt/evt.h"
#include "pt.h"
#include <xen/grant_table.h>
#include "xs_ring.h"

/* ring.h leaves its barriers to the includer. */
#define mb()      __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_mb()  mb()
#define xen_rmb() mb()
#define xen_wmb() mb()
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#define MS 1000000ULL
#define TIMEOUT (10000 * MS)
#define PAGE 4096

/* Grant refs (entries 0 and 1 are the builder's console and store grants). */
enum {
    GR_RING_A = 8, GR_RING_B = 9, GR_TX = 10, GR_RX = 11, GR_TXDATA = 12,
    GR_DATA = 16,            /* GR_DATA + i: data[i], i < NDATA */
    GR_RXBUF = 40,           /* GR_RXBUF + i: rxbuf[i], i < NRXBUF */
    GR_NEVER = 300,          /* inside the table, never granted */
    GR_BEYOND = 0x7ffffff0,  /* far beyond the table */
};
#define NDATA 12
#define NRXBUF 8

static char gnttab_va[PAGE] __attribute__((aligned(PAGE)));
static struct grant_entry_v1 *gnttab;
static uint8_t ring_a[PAGE] __attribute__((aligned(PAGE)));
static uint8_t ring_b[PAGE] __attribute__((aligned(PAGE)));
static uint8_t ring_tx[PAGE] __attribute__((aligned(PAGE)));
static uint8_t ring_rx[PAGE] __attribute__((aligned(PAGE)));
static uint8_t txdata[PAGE] __attribute__((aligned(PAGE)));
static uint8_t data[NDATA][PAGE] __attribute__((aligned(PAGE)));
static uint8_t rxbuf[NRXBUF][PAGE] __attribute__((aligned(PAGE)));

static int failures;
static char domid[16];

/* ---- strings ---- */

/* Contract: appends s to buf (size n), always NUL-terminated; returns buf. */
static char *cat(char *buf, size_t n, const char *s)
{
    size_t l = guest_strlen(buf);

    while (*s && l + 1 < n)
        buf[l++] = *s++;
    buf[l] = '\0';
    return buf;
}

/* Contract: v in decimal into out; returns out. */
static const char *dec(unsigned long v, char out[24])
{
    char t[24];
    int n = 0, k = 0;

    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n)
        out[k++] = t[--n];
    out[k] = '\0';
    return out;
}

/* Contract: parses a decimal prefix; 0 if none. */
static unsigned long parse_dec(const char *s)
{
    unsigned long v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long)(*s++ - '0');
    return v;
}

/* Contract: prints the verdict line of one case and counts failures. */
static void result(const char *name, int ok, const char *detail)
{
    guest_printf("HOSTILE %s %s %s\n", name, ok ? "ok" : "fail", detail ? detail : "");
    if (!ok)
        failures++;
}

/* ---- XenStore over our store ring (xs_ring.h; no watches) ---- */

static char xs_reply[XENSTORE_PAYLOAD_MAX + 1];

/* Contract: the value of path, or NULL if absent or unreadable. */
static const char *xs_read(const char *path)
{
    size_t n = guest_strlen(path) + 1;

    return xs_req(XS_READ, path, n, xs_reply) == XS_READ ? xs_reply : NULL;
}

/* Contract: writes dir/key = val; 0 or -1. */
static int xs_write(const char *dir, const char *key, const char *val)
{
    static char buf[512];
    size_t n;

    buf[0] = '\0';
    cat(buf, sizeof(buf), dir);
    cat(buf, sizeof(buf), "/");
    cat(buf, sizeof(buf), key);
    n = guest_strlen(buf) + 1;
    memcpy(buf + n, val, guest_strlen(val));
    n += guest_strlen(val);
    return xs_req(XS_WRITE, buf, n, xs_reply) == XS_WRITE ? 0 : -1;
}

/* Contract: writes dir/key = v in decimal; 0 or -1. */
static int xs_write_num(const char *dir, const char *key, unsigned long v)
{
    char d[24];

    return xs_write(dir, key, dec(v, d));
}

/* Contract: dir/key's value in decimal, or -1 if absent. */
static long xs_read_num(const char *dir, const char *key)
{
    char p[192] = "";
    const char *v;

    cat(cat(cat(p, sizeof(p), dir), sizeof(p), "/"), sizeof(p), key);
    v = xs_read(p);
    return v && *v >= '0' && *v <= '9' ? (long)parse_dec(v) : -1;
}

/* Contract: waits until dir/state is `want`; returns the last state read. */
static long wait_state(const char *dir, long want, uint64_t timeout)
{
    uint64_t end = evt_now() + timeout;
    long s;

    while ((s = xs_read_num(dir, "state")) != want && evt_now() < end)
        evt_sleep_ms(10);
    return s;
}

/* ---- grants and event channels ---- */

/* Contract: sets up and maps our grant table (one frame); 0 or -1. */
static int gnttab_init(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };

    set_xen_guest_handle(st.frame_list, &frame);
    if (hyp_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status != GNTST_okay)
        return -1;
    if (hyp_update_va_mapping((unsigned long)gnttab_va, (frame << 12) | PTE_DATA_RW, UVMF_INVLPG))
        return -1;
    gnttab = (struct grant_entry_v1 *)gnttab_va;
    return 0;
}

/* Contract: grants `page` to dom0 (read-write) as `ref`. */
static void grant(unsigned ref, void *page)
{
    gnttab[ref].domid = 0;
    gnttab[ref].frame = (uint32_t)pt_mfn_of(page);
    __atomic_store_n(&gnttab[ref].flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);
}

/* Contract: a fresh port for dom0 to bind, unmasked; 0 on failure. */
static evtchn_port_t new_port(void)
{
    long p = evt_alloc_unbound(0);

    if (p <= 0)
        return 0;
    evt_unmask((evtchn_port_t)p);
    return (evtchn_port_t)p;
}

/* ---- hostile blkfront ---- */

struct blk {
    const char *name;
    unsigned vdev;
    unsigned gref;
    uint8_t *page;
    char fe[64], be[96];
    blkif_front_ring_t ring;
    evtchn_port_t port;
    unsigned long sectors;
    uint64_t next_id;
};

/* Contract: publishes ring-ref `ref` (our ring's unless a hostile one),
 * the channel and `proto`, goes Initialised and returns the backend's state
 * once it leaves InitWait (or after the timeout). */
static long blk_publish(struct blk *b, unsigned ref, const char *proto)
{
    const char *v;
    char d[24], p[96] = "";

    b->fe[0] = '\0';
    cat(cat(b->fe, sizeof(b->fe), "device/vbd/"), sizeof(b->fe), dec(b->vdev, d));
    v = xs_read(cat(cat(p, sizeof(p), b->fe), sizeof(p), "/backend"));
    if (!v)
        return -1;
    b->be[0] = '\0';
    cat(b->be, sizeof(b->be), v);
    if (wait_state(b->be, XenbusStateInitWait, TIMEOUT) != XenbusStateInitWait)
        return -1;
    memset(b->page, 0, PAGE);
    SHARED_RING_INIT((blkif_sring_t *)b->page);
    FRONT_RING_INIT(&b->ring, (blkif_sring_t *)b->page, PAGE);
    grant(b->gref, b->page);
    if (!b->port)
        b->port = new_port();
    if (!b->port || xs_write_num(b->fe, "ring-ref", ref) ||
        xs_write_num(b->fe, "event-channel", b->port) || xs_write(b->fe, "protocol", proto) ||
        xs_write_num(b->fe, "state", XenbusStateInitialised))
        return -1;
    {
        uint64_t end = evt_now() + TIMEOUT;
        long st;

        while ((st = xs_read_num(b->be, "state")) == XenbusStateInitWait && evt_now() < end)
            evt_sleep_ms(10);
        return st;
    }
}

/* Contract: connects as Linux does and waits for the backend; 0 or -1. */
static int blk_connect(struct blk *b)
{
    if (blk_publish(b, b->gref, XEN_IO_PROTO_ABI_X86_64) != XenbusStateConnected)
        return -1;
    b->sectors = (unsigned long)xs_read_num(b->be, "sectors");
    return xs_write_num(b->fe, "state", XenbusStateConnected);
}

/* Contract: from backend Closed/Closing: frontend Closed, then Initialising,
 * until the backend is back at InitWait; 0 or -1. */
static int blk_reset(struct blk *b)
{
    if (xs_write_num(b->fe, "state", XenbusStateClosed) ||
        wait_state(b->be, XenbusStateClosed, TIMEOUT) != XenbusStateClosed ||
        xs_write_num(b->fe, "state", XenbusStateInitialising))
        return -1;
    return wait_state(b->be, XenbusStateInitWait, TIMEOUT) == XenbusStateInitWait ? 0 : -1;
}

/* Contract: a zeroed request with a fresh id at the producer's slot. */
static blkif_request_t *blk_slot(struct blk *b)
{
    blkif_request_t *r = RING_GET_REQUEST(&b->ring, b->ring.req_prod_pvt);

    memset(r, 0, sizeof(*r));
    r->id = ++b->next_id;
    r->handle = (blkif_vdev_t)b->vdev;
    b->ring.req_prod_pvt++;
    return r;
}

/* Contract: pushes queued requests and notifies the backend. */
static void blk_push(struct blk *b)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&b->ring, notify);
    (void)notify;
    evt_send(b->port);
}

/* Contract: pushes, waits until every request is answered and returns the
 * last answer's status; 99 on a timeout, 98 if its id is not the last
 * request's.  *wrong (if not NULL) counts answers whose status is not want. */
static int blk_wait_count(struct blk *b, int want, unsigned *wrong)
{
    uint64_t end = evt_now() + TIMEOUT;
    int st = 99;

    blk_push(b);
    while (b->ring.rsp_cons != b->ring.req_prod_pvt && evt_now() < end) {
        RING_IDX rp = __atomic_load_n(&b->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);

        if (b->ring.rsp_cons == rp) {
            b->ring.sring->rsp_event = rp + 1;
            mb();
            evt_sleep_ms(1);
            continue;
        }
        blkif_response_t *rsp = RING_GET_RESPONSE(&b->ring, b->ring.rsp_cons);

        st = rsp->id == b->next_id ? rsp->status : 98;
        if (wrong && rsp->status != want)
            (*wrong)++;
        b->ring.rsp_cons++;
    }
    if (wrong)
        *wrong += b->ring.req_prod_pvt - b->ring.rsp_cons;
    return st;
}

/* Contract: blk_wait_count without the count. */
static int blk_wait(struct blk *b)
{
    return blk_wait_count(b, 0, NULL);
}

/* Contract: one read or write of `nsect` sectors at `sector` into data[0]. */
static int blk_rw(struct blk *b, uint8_t op, uint64_t sector, unsigned first, unsigned last)
{
    blkif_request_t *r = blk_slot(b);

    r->operation = op;
    r->nr_segments = 1;
    r->sector_number = sector;
    r->seg[0].gref = GR_DATA;
    r->seg[0].first_sect = (uint8_t)first;
    r->seg[0].last_sect = (uint8_t)last;
    return blk_wait(b);
}

/* Contract: prints case `name` as ok if status `got` is `want`. */
static void expect_status(const char *name, int got, int want)
{
    char d[24], detail[48] = "status ";

    if (got < 0) {
        cat(detail, sizeof(detail), "-");
        got = -got;
        cat(detail, sizeof(detail), dec((unsigned long)got, d));
        got = -got;
    } else {
        cat(detail, sizeof(detail), dec((unsigned long)got, d));
    }
    result(name, got == want, detail);
}

/* Contract: a good write then read of 8 sectors at `sector`, compared. */
static void blk_good(struct blk *b, const char *name, uint64_t sector)
{
    int w, r, same;

    for (int i = 0; i < PAGE; i++)
        data[0][i] = (uint8_t)(i * 7 + sector + b->next_id);
    memcpy(data[1], data[0], PAGE);
    w = blk_rw(b, BLKIF_OP_WRITE, sector, 0, 7);
    memset(data[0], 0, PAGE);
    r = blk_rw(b, BLKIF_OP_READ, sector, 0, 7);
    same = guest_memcmp(data[0], data[1], PAGE) == 0;
    result(name, w == BLKIF_RSP_OKAY && r == BLKIF_RSP_OKAY && same,
           same ? "write+read back" : "data differ or error");
}

/* Contract: the malformed direct requests, each answered with an error. */
static void blk_malformed(struct blk *b)
{
    blkif_request_t *r;

    r = blk_slot(b);
    r->operation = 0x77;
    r->nr_segments = 1;
    expect_status("blk-unknown-op", blk_wait(b), BLKIF_RSP_EOPNOTSUPP);

    r = blk_slot(b);
    r->operation = BLKIF_OP_READ;
    expect_status("blk-nseg-0", blk_wait(b), BLKIF_RSP_ERROR);
    for (unsigned n = 12; n <= 255; n += 243) {
        r = blk_slot(b);
        r->operation = BLKIF_OP_WRITE;
        r->nr_segments = (uint8_t)n;
        for (int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
            r->seg[i] = (struct blkif_request_segment){ .gref = GR_DATA, .last_sect = 7 };
        expect_status(n == 12 ? "blk-nseg-12" : "blk-nseg-255", blk_wait(b), BLKIF_RSP_ERROR);
    }
    expect_status("blk-first-gt-last", blk_rw(b, BLKIF_OP_READ, 0, 5, 2), BLKIF_RSP_ERROR);
    expect_status("blk-last-sect-8", blk_rw(b, BLKIF_OP_READ, 0, 0, 8), BLKIF_RSP_ERROR);
    expect_status("blk-last-sect-255", blk_rw(b, BLKIF_OP_WRITE, 0, 200, 255), BLKIF_RSP_ERROR);

    r = blk_slot(b);
    r->operation = BLKIF_OP_READ;
    r->nr_segments = 1;
    r->seg[0] = (struct blkif_request_segment){ .gref = GR_NEVER, .last_sect = 7 };
    expect_status("blk-gref-never-granted", blk_wait(b), BLKIF_RSP_ERROR);
    r = blk_slot(b);
    r->operation = BLKIF_OP_WRITE;
    r->nr_segments = 2;
    r->seg[0] = (struct blkif_request_segment){ .gref = GR_DATA, .last_sect = 7 };
    r->seg[1] = (struct blkif_request_segment){ .gref = GR_BEYOND, .last_sect = 7 };
    expect_status("blk-gref-beyond-table", blk_wait(b), BLKIF_RSP_ERROR);

    expect_status("blk-past-end", blk_rw(b, BLKIF_OP_READ, b->sectors - 4, 0, 7), BLKIF_RSP_ERROR);
    expect_status("blk-at-end", blk_rw(b, BLKIF_OP_WRITE, b->sectors, 0, 0), BLKIF_RSP_ERROR);
    expect_status("blk-sector-wraps", blk_rw(b, BLKIF_OP_READ, ~0ULL - 3, 0, 7), BLKIF_RSP_ERROR);
}

/* Contract: malformed indirect requests (if offered), each an error. */
static void blk_indirect(struct blk *b)
{
    static const struct { const char *name; uint8_t op; uint16_t nseg; unsigned gref; } c[] = {
        { "blk-indirect-0-segs", BLKIF_OP_READ, 0, GR_DATA + 2 },
        { "blk-indirect-too-many", BLKIF_OP_READ, 4096, GR_DATA + 2 },
        { "blk-indirect-bad-op", 0x66, 8, GR_DATA + 2 },
        { "blk-indirect-never-granted", BLKIF_OP_READ, 8, GR_NEVER },
        { "blk-indirect-bad-seg", BLKIF_OP_READ, 8, GR_DATA + 2 },
    };
    struct blkif_request_segment *segs = (struct blkif_request_segment *)data[2];

    for (int i = 0; i < 8; i++)     /* segment 5 is garbage (last_sect 9) */
        segs[i] = (struct blkif_request_segment){ .gref = GR_DATA + 3, .last_sect = i == 5 ? 9 : 7 };
    for (unsigned k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        blkif_request_indirect_t *r = (blkif_request_indirect_t *)blk_slot(b);

        r->operation = BLKIF_OP_INDIRECT;
        r->indirect_op = c[k].op;
        r->nr_segments = c[k].nseg;
        r->indirect_grefs[0] = c[k].gref;
        expect_status(c[k].name, blk_wait(b), BLKIF_RSP_ERROR);
    }
}

/* Contract: 2048 reads of grants never granted, a ring-full at a time (a
 * line per failed map in the backend's log would grow it without bound). */
static void blk_flood(struct blk *b)
{
    unsigned wrong = 0, n = 0;
    char d[24], detail[64] = "answers not ERROR: ";

    for (int round = 0; round < 64; round++) {
        while (!RING_FULL(&b->ring)) {
            blkif_request_t *r = blk_slot(b);

            r->operation = round & 1 ? BLKIF_OP_WRITE : BLKIF_OP_READ;
            r->nr_segments = 1;
            r->seg[0] = (struct blkif_request_segment){ .gref = (grant_ref_t)(GR_NEVER + n % 64),
                                                        .last_sect = 7 };
            n++;
        }
        blk_wait_count(b, BLKIF_RSP_ERROR, &wrong);
    }
    cat(detail, sizeof(detail), dec(wrong, d));
    cat(detail, sizeof(detail), " of ");
    cat(detail, sizeof(detail), dec(n, d));
    result("blk-flood-never-granted", wrong == 0 && n == 2048, detail);
}

/* Contract: fills b's ring with 11-segment reads and pushes them; their number. */
static unsigned blk_fill(struct blk *b)
{
    unsigned n = 0;

    while (!RING_FULL(&b->ring)) {
        blkif_request_t *r = blk_slot(b);

        r->operation = BLKIF_OP_READ;
        r->nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST;
        r->sector_number = (uint64_t)n * 88 % (b->sectors - 88);
        for (int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
            r->seg[i] = (struct blkif_request_segment){ .gref = (grant_ref_t)(GR_DATA + 4 + i % 8),
                                                         .last_sect = 7 };
        n++;
    }
    blk_push(b);
    return n;
}

/* Contract: fills the ring with 11-segment reads, notifies, and goes
 * Closed at once; the backend must follow to Closed. */
static void blk_close_inflight(struct blk *b)
{
    unsigned n = blk_fill(b);
    long s;
    char d[24], detail[64] = "requests in flight ";

    xs_write_num(b->fe, "state", XenbusStateClosed);
    s = wait_state(b->be, XenbusStateClosed, TIMEOUT);
    cat(detail, sizeof(detail), dec(n, d));
    cat(detail, sizeof(detail), ", backend state ");
    cat(detail, sizeof(detail), dec((unsigned long)s, d));
    result("blk-close-inflight", s == XenbusStateClosed, detail);
}

/* Contract: moves req_prod 1000 past the responses; the backend must drop
 * the device (Closing). */
static void blk_prod_ahead(struct blk *b)
{
    long s;
    char d[24], detail[48] = "backend state ";

    b->ring.sring->req_prod = b->ring.rsp_cons + 1000;
    mb();
    evt_send(b->port);
    s = wait_state(b->be, XenbusStateClosing, TIMEOUT);
    cat(detail, sizeof(detail), dec((unsigned long)s, d));
    result("blk-prod-far-ahead", s == XenbusStateClosing, detail);
}

/* Contract: hostile connects of b (from backend Closed): a ring-ref never
 * granted, then a protocol we do not speak; each must leave the backend
 * Closing with its error node, not Connected. */
static void blk_bad_connects(struct blk *b)
{
    char d[24], detail[48] = "backend state ";
    long s;

    s = blk_reset(b) == 0 ? blk_publish(b, GR_NEVER, XEN_IO_PROTO_ABI_X86_64) : -1;
    cat(detail, sizeof(detail), dec((unsigned long)s, d));
    result("blk-ring-ref-never-granted", s == XenbusStateClosing, detail);
    s = blk_reset(b) == 0 ? blk_publish(b, b->gref, "x86_32-abi") : -1;
    detail[14] = '\0';
    cat(detail, sizeof(detail), dec((unsigned long)s, d));
    result("blk-protocol-x86_32", s == XenbusStateClosing, detail);
    result("blk-reconnect", blk_reset(b) == 0 && blk_connect(b) == 0, b->be);
    expect_status("blk-reconnect-serves", blk_rw(b, BLKIF_OP_READ, 0, 0, 7), BLKIF_RSP_OKAY);
}

/* Contract: leaves b Connected with its ring full of reads in flight, for
 * the crash to interrupt. */
static void blk_leave_inflight(struct blk *b)
{
    unsigned n = blk_fill(b);

    guest_printf("hostile_domu: crashing with %u reads in flight on %s\n", n, b->name);
}

/* ---- hostile netfront ---- */

static struct net {
    char fe[32], be[96];
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    evtchn_port_t port;
    uint16_t next_id;
} net;

/* Contract: fresh rings, keys (TX ring-ref tx_ref, request-rx-copy
 * rx_copy, multi-queue-num-queues nq unless 0) and state Connected; returns
 * the backend's state once it leaves InitWait (or after the timeout). */
static long net_publish(unsigned tx_ref, const char *rx_copy, unsigned nq)
{
    const char *v;
    uint64_t end;
    long st;

    net.fe[0] = '\0';
    cat(net.fe, sizeof(net.fe), "device/vif/0");
    v = xs_read("device/vif/0/backend");
    if (!v)
        return -1;
    net.be[0] = '\0';
    cat(net.be, sizeof(net.be), v);
    if (wait_state(net.be, XenbusStateInitWait, TIMEOUT) != XenbusStateInitWait)
        return -1;
    memset(ring_tx, 0, PAGE);
    memset(ring_rx, 0, PAGE);
    SHARED_RING_INIT((netif_tx_sring_t *)ring_tx);
    SHARED_RING_INIT((netif_rx_sring_t *)ring_rx);
    FRONT_RING_INIT(&net.tx, (netif_tx_sring_t *)ring_tx, PAGE);
    FRONT_RING_INIT(&net.rx, (netif_rx_sring_t *)ring_rx, PAGE);
    grant(GR_TX, ring_tx);
    grant(GR_RX, ring_rx);
    if (!net.port)
        net.port = new_port();
    if (!net.port || xs_write_num(net.fe, "tx-ring-ref", tx_ref) ||
        xs_write_num(net.fe, "rx-ring-ref", GR_RX) ||
        xs_write_num(net.fe, "event-channel", net.port) ||
        xs_write(net.fe, "request-rx-copy", rx_copy) || xs_write(net.fe, "feature-rx-notify", "1") ||
        xs_write(net.fe, "feature-sg", "1") ||
        (nq && xs_write_num(net.fe, "multi-queue-num-queues", nq)) ||
        xs_write_num(net.fe, "state", XenbusStateConnected))
        return -1;
    end = evt_now() + TIMEOUT;
    while ((st = xs_read_num(net.be, "state")) == XenbusStateInitWait && evt_now() < end)
        evt_sleep_ms(10);
    return st;
}

/* Contract: connects as Linux does; 0 or -1. */
static int net_connect(void)
{
    return net_publish(GR_TX, "1", 0) == XenbusStateConnected ? 0 : -1;
}

/* Contract: a TX slot at the producer with the given fields. */
static void tx_slot(unsigned gref, uint16_t off, uint16_t flags, uint16_t size)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&net.tx, net.tx.req_prod_pvt);

    r->gref = gref;
    r->offset = off;
    r->flags = flags;
    r->id = net.next_id++;
    r->size = size;
    net.tx.req_prod_pvt++;
}

/* Contract: pushes the queued slots, waits for all their responses and
 * returns the first one's status (99: timeout). */
static int tx_wait(void)
{
    uint64_t end = evt_now() + TIMEOUT;
    int st = 99, first = 1;
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&net.tx, notify);
    (void)notify;
    evt_send(net.port);
    while (net.tx.rsp_cons != net.tx.req_prod_pvt && evt_now() < end) {
        if (net.tx.rsp_cons == __atomic_load_n(&net.tx.sring->rsp_prod, __ATOMIC_ACQUIRE)) {
            evt_sleep_ms(1);
            continue;
        }
        netif_tx_response_t *rsp = RING_GET_RESPONSE(&net.tx, net.tx.rsp_cons);

        if (first && rsp->status != NETIF_RSP_NULL) {
            st = rsp->status;
            first = 0;
        }
        net.tx.rsp_cons++;
    }
    return st;
}

/* Contract: an Ethernet frame of len bytes at txdata + off (broadcast,
 * ethertype 0x88b5, local experimental: nobody answers it). */
static void frame(uint16_t off, unsigned len)
{
    uint8_t *f = txdata + off;

    memset(f, 0, len);
    memset(f, 0xff, 6);
    f[6] = 0x00; f[7] = 0x16; f[8] = 0x3e; f[9] = 0x77; f[10] = 0x77; f[11] = 0x77;
    f[12] = 0x88;
    f[13] = 0xb5;
}

/* Contract: the TX cases that must get an answer while the vif goes on. */
static void net_malformed(void)
{
    frame(0, 64);
    tx_slot(GR_TXDATA, 0, 0, 64);
    expect_status("net-good-frame", tx_wait(), NETIF_RSP_OKAY);
    tx_slot(GR_TXDATA, 0, NETTXF_more_data, 100);
    tx_slot(GR_TXDATA, 128, 0, 200);
    expect_status("net-size-lies", tx_wait(), NETIF_RSP_ERROR);
    tx_slot(GR_TXDATA, 0, NETTXF_more_data, 3000);
    tx_slot(GR_TXDATA, 2000, 0, 2500);
    expect_status("net-slot-past-page", tx_wait(), NETIF_RSP_ERROR);
    frame(4000, 64);
    tx_slot(GR_TXDATA, 4000, 0, 200);
    expect_status("net-first-past-page", tx_wait(), NETIF_RSP_ERROR);
    tx_slot(GR_NEVER, 0, 0, 64);
    expect_status("net-gref-never-granted", tx_wait(), NETIF_RSP_ERROR);
    tx_slot(GR_BEYOND, 0, 0, 64);
    expect_status("net-gref-beyond-table", tx_wait(), NETIF_RSP_ERROR);
    tx_slot(GR_TXDATA, 0, 0, 6);
    expect_status("net-runt", tx_wait(), NETIF_RSP_ERROR);
    frame(0, 64);
    tx_slot(GR_TXDATA, 0, NETTXF_csum_blank, 64);
    expect_status("net-csum-not-ip", tx_wait(), NETIF_RSP_ERROR);
    frame(0, 64);
    tx_slot(GR_TXDATA, 0, 0, 64);
    expect_status("net-still-serves", tx_wait(), NETIF_RSP_OKAY);
}

/* Contract: 2048 one-slot frames from grants never granted, 64 at a time. */
static void net_flood(void)
{
    unsigned wrong = 0;
    char d[24], detail[48] = "answers not ERROR: ";

    for (int round = 0; round < 32; round++) {
        RING_IDX first = net.tx.req_prod_pvt;

        for (int i = 0; i < 64; i++)
            tx_slot(GR_NEVER + (unsigned)i, 0, 0, 64);
        tx_wait();
        for (RING_IDX k = first; k != net.tx.rsp_cons; k++)
            if (RING_GET_RESPONSE(&net.tx, k)->status != NETIF_RSP_ERROR)
                wrong++;
        wrong += net.tx.req_prod_pvt - net.tx.rsp_cons;
    }
    cat(detail, sizeof(detail), dec(wrong, d));
    result("net-flood-never-granted", wrong == 0, detail);
}

/* Contract: waits for the backend to drop the vif; prints case `name`. */
static void net_expect_drop(const char *name)
{
    char d[24], detail[48] = "backend state ";
    long s = wait_state(net.be, XenbusStateClosing, TIMEOUT);

    cat(detail, sizeof(detail), dec((unsigned long)s, d));
    result(name, s == XenbusStateClosing, detail);
}

/* Contract: from backend Closing: frontend Closed, then Initialising,
 * until the backend is back at InitWait; 0 or -1. */
static int net_reset(void)
{
    if (xs_write_num(net.fe, "state", XenbusStateClosed) ||
        wait_state(net.be, XenbusStateClosed, TIMEOUT) != XenbusStateClosed ||
        xs_write_num(net.fe, "state", XenbusStateInitialising))
        return -1;
    return wait_state(net.be, XenbusStateInitWait, TIMEOUT) == XenbusStateInitWait ? 0 : -1;
}

/* Contract: a frontend reconnect after a drop (Closed, Initialising, new
 * rings, Connected); 0 or -1. */
static int net_reconnect(void)
{
    return net_reset() == 0 ? net_connect() : -1;
}

/* Contract: hostile connects (from backend Closing): each must leave the
 * backend Closing, not Connected; the keys are cleaned up after. */
static void net_bad_connects(void)
{
    static const struct { const char *name; unsigned tx_ref; const char *rx_copy; unsigned nq; } c[] = {
        { "net-ring-ref-never-granted", GR_NEVER, "1", 0 },
        { "net-request-rx-copy-0", GR_TX, "0", 0 },
        { "net-queues-99", GR_TX, "1", 99 },
    };

    for (unsigned k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
        char d[24], detail[48] = "backend state ";
        long st = net_reset() == 0 ? net_publish(c[k].tx_ref, c[k].rx_copy, c[k].nq) : -1;

        cat(detail, sizeof(detail), dec((unsigned long)st, d));
        result(c[k].name, st == XenbusStateClosing, detail);
    }
}

/* Contract: posts RX buffers, then a garbage RX producer: vif dropped. */
static void net_rx_garbage(void)
{
    for (unsigned i = 0; i < NRXBUF; i++) {
        netif_rx_request_t *r = RING_GET_REQUEST(&net.rx, net.rx.req_prod_pvt++);

        grant(GR_RXBUF + i, rxbuf[i]);
        r->id = (uint16_t)i;
        r->gref = GR_RXBUF + i;
    }
    net.rx.sring->req_prod = net.rx.req_prod_pvt + 40000;
    mb();
    evt_send(net.port);
    net_expect_drop("net-rx-prod-garbage");
}

/* Contract: every TX slot of the ring carries NETTXF_more_data. */
static void net_endless_chain(void)
{
    frame(0, 64);
    while (!RING_FULL(&net.tx))
        tx_slot(GR_TXDATA, 0, NETTXF_more_data, 64);
    {
        int notify;

        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&net.tx, notify);
        (void)notify;
    }
    evt_send(net.port);
    net_expect_drop("net-tx-chain-endless");
}

/* ---- the run ---- */

/* Contract: reads our domain id and maps the store ring; 0 or -1. */
static int setup(void)
{
    const start_info_t *si = guest_start_info;
    const char *v;

    if (evt_init() != 0)
        return -1;
    if (xs_ring_init(si, TIMEOUT) < 0 || gnttab_init() < 0)
        return -1;
    v = xs_read("domid");
    if (!v)
        return -1;
    memcpy(domid, v, guest_strnlen(v, sizeof(domid) - 1));
    grant(GR_TXDATA, txdata);
    for (int i = 0; i < NDATA; i++)
        grant(GR_DATA + i, data[i]);
    return 0;
}

/* Contract: tells dom0 we are done and waits (up to 30 s) for data/go. */
static void handshake(void)
{
    uint64_t end = evt_now() + 30000 * MS;

    xs_write("data", "done", "1");
    while (!xs_read("data/go") && evt_now() < end)
        evt_sleep_ms(50);
}

void test_main(void)
{
    static struct blk a = { .name = "xvda", .vdev = 51712, .gref = GR_RING_A, .page = ring_a };
    static struct blk b = { .name = "xvdb", .vdev = 51728, .gref = GR_RING_B, .page = ring_b };

    TEST("hostile_domu: set up");
    if (!EXPECT_EQ(setup(), 0))
        return;
    guest_printf("hostile_domu: domid %s\n", domid);

    result("blk-connect", blk_connect(&a) == 0 && blk_connect(&b) == 0, a.be);
    if (a.ring.sring && a.port) {
        blk_good(&a, "blk-good-io", 8);
        blk_malformed(&a);
        blk_indirect(&a);
        blk_flood(&a);
        blk_good(&a, "blk-still-serves", 16);
        expect_status("blk-write-readonly", blk_rw(&b, BLKIF_OP_WRITE, 0, 0, 7), BLKIF_RSP_ERROR);
        expect_status("blk-read-readonly", blk_rw(&b, BLKIF_OP_READ, 0, 0, 7), BLKIF_RSP_OKAY);
        blk_close_inflight(&b);
        blk_prod_ahead(&a);
    }
    result("net-connect", net_connect() == 0, net.be);
    net_malformed();
    net_flood();
    net_rx_garbage();
    result("net-reconnect", net_reconnect() == 0, net.be);
    frame(0, 64);
    tx_slot(GR_TXDATA, 0, 0, 64);
    expect_status("net-reconnect-serves", tx_wait(), NETIF_RSP_OKAY);
    net_endless_chain();
    net_bad_connects();

    if (b.port)
        blk_bad_connects(&b);
    guest_printf("HOSTILE end %d failed\n", failures);
    handshake();
    if (b.ring.sring)
        blk_leave_inflight(&b);
    EXPECT_EQ(failures, 0);
    guest_shutdown_reason = SHUTDOWN_crash;
}
