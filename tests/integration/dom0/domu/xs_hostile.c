/*
 * xs_hostile: a domU that attacks dom0's daemons, run by check-dom0 under
 * Linux's dom0 (created with `pvkit create`, so it has a store page and
 * an event channel that xenstore-lite serves, and a console ring that
 * pvkit-consoled serves). It speaks XenStore's wire protocol over its ring
 * itself (xen/io/xs_wire.h) and checks that:
 *   - its own subtree works (write, read back, relative paths);
 *   - writes, removals and permission changes outside it, and the
 *     privileged operations (INTRODUCE), are refused (EACCES);
 *   - node, watch and transaction quotas stop it with an error, and
 *     removing its nodes gives the room back;
 *   - a message longer than XENSTORE_PAYLOAD_MAX is refused or ends its
 *     own connection, never the daemon (done last);
 * then floods its console ring with 512 KiB and ends with SHUTDOWN_crash
 * (guest_shutdown_reason), which its config answers with on_crash. Its
 * verdict goes to the hypervisor's console (console_io). dom0's check then
 * proves the daemons and the other domains unharmed.
 */
#include "evt/evt.h"
#include "pt.h"
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#define MS 1000000ULL
#define WAIT (10000 * MS)

static volatile struct xenstore_domain_interface *xs;
static evtchn_port_t xs_port;
static uint32_t next_req_id = 1;
static char reply[XENSTORE_PAYLOAD_MAX + 1];

/* Puts n bytes into the request ring, waiting for room; false on timeout. */
static int ring_write(const void *data, size_t n)
{
    const char *p = data;
    uint64_t end = evt_now() + WAIT;
    XENSTORE_RING_IDX prod = xs->req_prod;

    while (n) {
        if (prod - __atomic_load_n(&xs->req_cons, __ATOMIC_ACQUIRE) >= XENSTORE_RING_SIZE) {
            __atomic_store_n(&xs->req_prod, prod, __ATOMIC_RELEASE);
            evt_send(xs_port);
            if (evt_now() > end)
                return 0;
            evt_sleep_ms(1);
            continue;
        }
        xs->req[MASK_XENSTORE_IDX(prod)] = *p++;
        prod++;
        n--;
    }
    __atomic_store_n(&xs->req_prod, prod, __ATOMIC_RELEASE);
    evt_send(xs_port);
    return 1;
}

/* Takes n bytes from the reply ring into dst (NULL: drop), waiting; false on timeout. */
static int ring_read(void *dst, size_t n)
{
    char *p = dst;
    uint64_t end = evt_now() + WAIT;
    XENSTORE_RING_IDX cons = xs->rsp_cons;

    while (n) {
        if (__atomic_load_n(&xs->rsp_prod, __ATOMIC_ACQUIRE) == cons) {
            if (evt_now() > end)
                return 0;
            evt_sleep_ms(1);
            continue;
        }
        char c = xs->rsp[MASK_XENSTORE_IDX(cons)];
        cons++;
        if (p)
            *p++ = c;
        n--;
        __atomic_store_n(&xs->rsp_cons, cons, __ATOMIC_RELEASE);
    }
    evt_send(xs_port);
    return 1;
}

/*
 * One request of `type` whose payload is a (with its NUL if a_nul) then b;
 * waits for its answer, skipping watch events. Returns the answer's type
 * (XS_ERROR: `reply` holds the errno name), or -1 if the daemon did not
 * answer in time.
 */
static long xs_call(uint32_t type, const char *a, int a_nul, const char *b)
{
    size_t alen = guest_strlen(a) + (a_nul ? 1 : 0), blen = b ? guest_strlen(b) : 0;
    struct xsd_sockmsg msg = { .type = type, .req_id = next_req_id++, .tx_id = 0,
                               .len = (uint32_t)(alen + blen) };

    if (!ring_write(&msg, sizeof(msg)) || !ring_write(a, alen) || (blen && !ring_write(b, blen)))
        return -1;
    for (;;) {
        struct xsd_sockmsg ans;
        if (!ring_read(&ans, sizeof(ans)) || ans.len > XENSTORE_PAYLOAD_MAX)
            return -1;
        if (!ring_read(reply, ans.len))
            return -1;
        reply[ans.len] = 0;
        if (ans.type != XS_WATCH_EVENT)
            return ans.type;
    }
}

/* True if the answer is the error `name` (e.g. "EACCES"). */
static int is_error(long type, const char *name)
{
    return type == XS_ERROR && guest_strcmp(reply, name) == 0;
}

static void own_subtree(void)
{
    TEST("xenstore: our own subtree works over the ring");
    EXPECT_EQ(xs_call(XS_WRITE, "data/hello", 1, "world"), XS_WRITE);
    EXPECT_EQ(xs_call(XS_READ, "data/hello", 1, NULL), XS_READ);
    EXPECT_EQ(guest_strcmp(reply, "world"), 0);
    EXPECT_EQ(xs_call(XS_GET_DOMAIN_PATH, "", 1, NULL), XS_ERROR); /* needs a domid */
}

static void outside_subtree(void)
{
    TEST("xenstore: nothing outside our subtree, nothing privileged");
    EXPECT(is_error(xs_call(XS_WRITE, "/local/domain/0/hostile", 1, "x"), "EACCES"));
    EXPECT(is_error(xs_call(XS_WRITE, "/tool/hostile", 1, "x"), "EACCES"));
    EXPECT(is_error(xs_call(XS_RM, "/local/domain/0", 1, NULL), "EACCES"));
    EXPECT(is_error(xs_call(XS_SET_PERMS, "/local/domain/0", 1, "b999"), "EACCES"));
    EXPECT(is_error(xs_call(XS_MKDIR, "/hostile", 1, NULL), "EACCES"));
    EXPECT(is_error(xs_call(XS_INTRODUCE, "99", 1, "1234"), "EACCES"));
}

/* "data/q<n>" into buf. */
static void node_name(char *buf, const char *prefix, unsigned int n)
{
    size_t len = guest_strlen(prefix);
    for (size_t i = 0; i < len; i++)
        buf[i] = prefix[i];
    char digits[12];
    int d = 0;
    do {
        digits[d++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (d)
        buf[len++] = digits[--d];
    buf[len] = 0;
}

static void quotas(void)
{
    char path[32];
    unsigned int n;
    long t = 0;

    TEST("xenstore: the node quota stops us, removal gives the room back");
    for (n = 0; n < 20000; n++) {
        node_name(path, "data/q", n);
        if ((t = xs_call(XS_WRITE, path, 1, "x")) != XS_WRITE)
            break;
    }
    guest_printf("     %u nodes, then %s\n", n, t == XS_ERROR ? reply : "no answer");
    EXPECT(n > 10 && n < 20000);
    EXPECT(is_error(t, "EQUOTA") || is_error(t, "ENOSPC"));
    EXPECT_EQ(xs_call(XS_RM, "data", 1, NULL), XS_RM);
    EXPECT_EQ(xs_call(XS_WRITE, "data/again", 1, "x"), XS_WRITE);

    TEST("xenstore: the watch quota stops us");
    for (n = 0; n < 5000; n++) {
        node_name(path, "t", n);
        if ((t = xs_call(XS_WATCH, "data", 1, path)) != XS_WATCH)
            break;
    }
    guest_printf("     %u watches, then %s\n", n, t == XS_ERROR ? reply : "no answer");
    EXPECT(n > 1 && n < 5000 && t == XS_ERROR);

    TEST("xenstore: the transaction quota stops us");
    for (n = 0; n < 5000; n++)
        if ((t = xs_call(XS_TRANSACTION_START, "", 1, NULL)) != XS_TRANSACTION_START)
            break;
    guest_printf("     %u transactions, then %s\n", n, t == XS_ERROR ? reply : "no answer");
    EXPECT(n > 1 && n < 5000 && t == XS_ERROR);
}

/* Last: a header announcing more than XENSTORE_PAYLOAD_MAX bytes. */
static void oversized(void)
{
    struct xsd_sockmsg msg = { .type = XS_WRITE, .req_id = next_req_id++,
                               .len = XENSTORE_PAYLOAD_MAX + 100 };

    TEST("xenstore: an oversized message is refused or ends our connection");
    EXPECT(ring_write(&msg, sizeof(msg)));
    evt_sleep_ms(500); /* dom0's check proves the daemon still serves the others */
}

static void flood_console(void)
{
    const start_info_t *si = guest_start_info;
    volatile struct xencons_interface *ring = pt_va_of_mfn(si->console.domU.mfn);
    static const char line[] = "xs_hostile: flooding the console ring 0123456789abcdef\n";
    uint64_t end = evt_now() + WAIT;
    size_t sent = 0;

    TEST("console: 512 KiB as fast as dom0 drains it");
    if (!EXPECT(ring != NULL))
        return;
    while (sent < 512 * 1024 && evt_now() < end) {
        XENCONS_RING_IDX prod = ring->out_prod;
        if (prod - ring->out_cons > sizeof(ring->out) - sizeof(line)) {
            evt_send(si->console.domU.evtchn);
            evt_sleep_ms(1);
            continue;
        }
        for (size_t i = 0; i < sizeof(line) - 1; i++)
            ring->out[MASK_XENCONS_IDX(prod + i, ring->out)] = line[i];
        __atomic_store_n(&ring->out_prod, prod + (XENCONS_RING_IDX)(sizeof(line) - 1),
                         __ATOMIC_RELEASE);
        sent += sizeof(line) - 1;
    }
    evt_send(si->console.domU.evtchn);
    guest_printf("     %lu bytes flooded\n", (unsigned long)sent);
    EXPECT(sent > 0);
}

void test_main(void)
{
    const start_info_t *si = guest_start_info;

    TEST("setup: a store page and event channel");
    EXPECT_EQ(evt_init(), 0);
    xs = pt_va_of_mfn(si->store_mfn);
    xs_port = si->store_evtchn;
    if (!EXPECT(xs != NULL) || !EXPECT(xs_port != 0))
        return;
    own_subtree();
    outside_subtree();
    quotas();
    flood_console();
    oversized();
    guest_shutdown_reason = SHUTDOWN_crash; /* "crashes itself": on_crash decides */
}
