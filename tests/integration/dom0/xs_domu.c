/*
 * xs_domu: the domU of make check-dom0's XenStore end-to-end check. dom0's
 * xs-domu-e2e creates it at run time (PVKIT_DOMCTL_create_pv), writes its
 * /local/domain/<id> tree as xl does and introduces it to xenstore-lite;
 * this kernel then speaks the XenStore protocol over its own store ring
 * (start_info's store_mfn and store_evtchn) with xs_ring.h's client.
 *
 * It checks what xl's permissions allow a domU (its home readable, data/
 * writable, dom0's nodes and the root not), a transaction, a watch that
 * dom0's write fires (it answers through data/done), its node quota
 * (ENOSPC), that garbage gets an error and the ring goes on, and that an
 * oversized message breaks its ring (PROTO) until it reconnects
 * (XENSTORE_RECONNECT), after which it is served again. Its verdict goes
 * to the hypervisor's console as "(d<id>) N passed, N failed"; it then
 * powers off. Built with the test-kernel framework (tests/guests/lib).
 *
 * With "hostile=1" on its command line (check-dom0-pvkit's hostile domU)
 * it also floods its console ring with 512 KiB, as fast as dom0's console
 * daemon drains it, and ends by crashing (SHUTDOWN_crash), for its
 * on_crash to answer.
 */
#include "evt/evt.h"
#include "pt.h"
#include <xen/io/console.h>
#include "xs_ring.h"

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)

static char reply[XENSTORE_PAYLOAD_MAX + 1];

/* A request whose payload is the strings of args, NUL-separated: "a|b"
 * sends "a\0b" (plus a final NUL unless type is XS_WRITE). Returns the
 * reply as "OK", the value, or "E:<ERRNO>". */
static const char *xs(uint32_t type, const char *args)
{
    static char buf[XENSTORE_PAYLOAD_MAX];
    size_t n = 0;
    int t;

    for (; *args && n < sizeof(buf) - 1; args++)
        buf[n++] = *args == '|' ? '\0' : *args;
    if (type != XS_WRITE)
        buf[n++] = '\0';
    t = xs_req(type, buf, n, reply);
    if (t < 0)
        return "E:RING";
    if (t == XS_ERROR) {
        static char err[32] = "E:";

        memcpy(err + 2, reply, guest_strnlen(reply, 28) + 1);
        return err;
    }
    return reply;
}

static int is(const char *got, const char *want)
{
    if (guest_strcmp(got, want) == 0)
        return 1;
    guest_printf("     got '%s', want '%s'\n", got, want);
    return 0;
}

/* Waits until the daemon sets the ring's error field; 1 if it did. */
static int ring_error_becomes(uint32_t want)
{
    uint64_t end = evt_now() + TIMEOUT;

    while (__atomic_load_n(&xs_ring.intf->error, __ATOMIC_ACQUIRE) != want && evt_now() < end)
        evt_sleep_ms(1);
    return xs_ring.intf->error == want;
}

/* Writes 512 KiB into the console ring as fast as it drains, then asks to end crashed. */
static void flood_console_and_crash(void)
{
    const start_info_t *si = guest_start_info;
    volatile struct xencons_interface *ring = pt_va_of_mfn(si->console.domU.mfn);
    static const char line[] = "xs_domu: flooding the console 0123456789abcdefghijklmnop\n";
    const size_t len = sizeof(line) - 1;
    uint64_t end = evt_now() + TIMEOUT;
    size_t sent = 0;

    TEST("hostile: flood the console ring, then crash");
    if (!EXPECT(ring != NULL))
        return;
    while (sent < 512 * 1024 && evt_now() < end) {
        XENCONS_RING_IDX prod = ring->out_prod;
        if (prod - __atomic_load_n(&ring->out_cons, __ATOMIC_ACQUIRE) > sizeof(ring->out) - len) {
            evt_send(si->console.domU.evtchn);
            evt_sleep_ms(1);
            continue;
        }
        for (size_t i = 0; i < len; i++)
            ring->out[MASK_XENCONS_IDX(prod + i, ring->out)] = line[i];
        __atomic_store_n(&ring->out_prod, prod + (XENCONS_RING_IDX)len, __ATOMIC_RELEASE);
        sent += len;
    }
    evt_send(si->console.domU.evtchn);
    guest_printf("xs_domu: %lu console bytes flooded\n", (unsigned long)sent);
    EXPECT(sent >= 512 * 1024);
    guest_shutdown_reason = SHUTDOWN_crash;
}

void test_main(void)
{
    const start_info_t *si = guest_start_info;
    char path[64], domid[16];
    struct xsd_sockmsg h;
    int i;

    TEST("the store ring");
    EXPECT_EQ(evt_init(), 0);
    if (!EXPECT(xs_ring_init(si, TIMEOUT) == 0))
        return;

    TEST("xl's tree: home readable, data/ writable, the rest not");
    memcpy(domid, xs(XS_READ, "domid"), sizeof(domid) - 1);
    domid[sizeof(domid) - 1] = '\0';
    EXPECT(domid[0] >= '1' && domid[0] <= '9');
    guest_printf("xs_domu: domid %s\n", domid);
    memcpy(path, "/local/domain/", 14);
    memcpy(path + 14, domid, guest_strlen(domid) + 1);
    EXPECT(is(xs(XS_GET_DOMAIN_PATH, domid), path));
    EXPECT(is(xs(XS_READ, "name"), "xs-domu"));
    EXPECT(is(xs(XS_WRITE, "data/hello|from domU"), "OK"));
    EXPECT(is(xs(XS_READ, "data/hello"), "from domU"));
    {
        char owner[20] = "n";

        memcpy(owner + 1, domid, guest_strlen(domid) + 1);
        EXPECT(is(xs(XS_GET_PERMS, "data/hello"), owner));
    }
    EXPECT(is(xs(XS_WRITE, "name|evil"), "E:EACCES"));
    EXPECT(is(xs(XS_WRITE, "/local/domain/0/evil|1"), "E:EACCES"));
    EXPECT(is(xs(XS_MKDIR, "/evil"), "E:EACCES"));
    EXPECT(is(xs(XS_READ, "/local/domain/0/name"), "E:EACCES"));	/* absent, unreadable parent */
    EXPECT(is(xs(XS_READ, "data/absent"), "E:ENOENT"));
    EXPECT(is(xs(XS_INTRODUCE, "9|1|1"), "E:EACCES"));

    TEST("a transaction commits");
    {
        char tx[16];
        struct xsd_sockmsg th = { .type = XS_WRITE, .req_id = xs_ring.next_req++, .len = 9 };

        memcpy(tx, xs(XS_TRANSACTION_START, ""), sizeof(tx) - 1);
        tx[sizeof(tx) - 1] = '\0';
        EXPECT(tx[0] >= '1' && tx[0] <= '9');
        th.tx_id = 0;
        for (i = 0; tx[i]; i++)
            th.tx_id = th.tx_id * 10 + (uint32_t)(tx[i] - '0');
        EXPECT(xs_ring_write(&th, sizeof(th)) == 0 && xs_ring_write("data/tx\0" "1", 9) == 0);
        EXPECT(xs_read_msg(&h, reply) == 0 && h.type == XS_WRITE && is(reply, "OK"));
        th.type = XS_TRANSACTION_END;
        th.req_id = xs_ring.next_req++;
        th.len = 2;
        EXPECT(xs_ring_write(&th, sizeof(th)) == 0 && xs_ring_write("T", 2) == 0);
        EXPECT(xs_read_msg(&h, reply) == 0 && h.type == XS_TRANSACTION_END && is(reply, "OK"));
        EXPECT(is(xs(XS_READ, "data/tx"), "1"));
    }

    TEST("dom0's write fires our watch");
    EXPECT(is(xs(XS_WATCH, "data/go|tok"), "OK"));
    EXPECT(is(xs(XS_WRITE, "data/ready|1"), "OK"));
    {
        uint64_t end = evt_now() + 4 * TIMEOUT;

        /* Events are read with the replies: ask something meanwhile. */
        while (evt_now() < end && (guest_strcmp(xs(XS_READ, "data/go"), "E:ENOENT") == 0 ||
                                   xs_ring.watch_events < 2 ||
                                   guest_strcmp(xs_ring.watch_path, "data/go") != 0))
            evt_sleep_ms(10);
        EXPECT(xs_ring.watch_events >= 2);
        memcpy(path, xs(XS_READ, "data/go"), 16);
        path[16] = '\0';
        guest_printf("xs_domu: data/go = '%s'\n", path);
        char done[40] = "data/done|";
        memcpy(done + 10, path, guest_strlen(path) + 1);
        EXPECT(is(xs(XS_WRITE, done), "OK"));
    }

    TEST("the node quota (ENOSPC)");
    {
        char node[32] = "data/q/";
        const char *r = "OK";

        for (i = 0; i < 1200 && guest_strcmp(r, "OK") == 0; i++) {
            int n = i, k = 7;
            char digits[8];
            int d = 0;

            do { digits[d++] = (char)('0' + n % 10); n /= 10; } while (n);
            while (d)
                node[k++] = digits[--d];
            memcpy(node + k, "|x", 3);
            r = xs(XS_WRITE, node);
        }
        guest_printf("xs_domu: write %d refused: %s\n", i, r);
        EXPECT(is(r, "E:ENOSPC"));
        EXPECT(i > 900);
        EXPECT(is(xs(XS_RM, "data/q"), "OK"));
        EXPECT(is(xs(XS_WRITE, "data/after-quota|1"), "OK"));
    }

    TEST("garbage gets an error, the ring goes on");
    EXPECT(is(xs(XS_TYPE_COUNT + 7, "x"), "E:EINVAL"));
    EXPECT(is(xs(XS_WATCH_EVENT, "a|b"), "E:EINVAL"));
    EXPECT(is(xs(XS_READ, "//"), "E:EINVAL"));
    EXPECT(is(xs(XS_READ, "name"), "xs-domu"));

    TEST("an oversized message breaks the ring until we reconnect");
    h = (struct xsd_sockmsg){ .type = XS_WRITE, .req_id = xs_ring.next_req++,
                              .len = XENSTORE_PAYLOAD_MAX + 1 };
    EXPECT(xs_ring_write(&h, sizeof(h)) == 0);
    EXPECT(ring_error_becomes(XENSTORE_ERROR_PROTO));
    __atomic_store_n(&xs_ring.intf->connection, XENSTORE_RECONNECT, __ATOMIC_RELEASE);
    evt_send(xs_ring.port);
    {
        uint64_t end = evt_now() + TIMEOUT;

        while (__atomic_load_n(&xs_ring.intf->connection, __ATOMIC_ACQUIRE) != XENSTORE_CONNECTED &&
               evt_now() < end)
            evt_sleep_ms(1);
    }
    EXPECT_EQ(xs_ring.intf->connection, XENSTORE_CONNECTED);
    EXPECT_EQ(xs_ring.intf->error, XENSTORE_ERROR_NONE);
    EXPECT(is(xs(XS_READ, "name"), "xs-domu"));
    EXPECT(is(xs(XS_WRITE, "data/end|1"), "OK"));

    if (evt_cmdline_num("hostile", 0))
        flood_console_and_crash();
}
