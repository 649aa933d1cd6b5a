/*
 * multi_console_takeover (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1"; pvkit only: PVKIT_DOMCTL_console_takeover is pvkit's): a
 * console daemon in dom0 takes a domU's console ring over from the
 * hypervisor, as pvkit-consoled does.
 *
 * B writes a line to its ring, which the hypervisor drains to the serial
 * console (the runner looks for "(d1) B: served by the hypervisor"). A maps
 * B's ring through grant reference 0, waits until that line is consumed,
 * and takes the console over: the answer names the frame it mapped and B's
 * port; asked again it answers the same (a restarted daemon) but the port,
 * bound by then, cannot be bound twice; a takeover of A itself (no ring) is
 * -ENOENT, one with a bad answer pointer -EFAULT and changes nothing. B sees its port bound to
 * domain 0 once A binds it. From then on the
 * hypervisor leaves the ring alone (the runner checks that "(d1) B: served
 * by dom0" never reaches the serial console): A reads B's line from the
 * ring itself, writes "ping" into B's input, and B answers "pong" through
 * the ring. B then ends; A unmaps the ring and closes its port.
 * check-dom0 runs B alone (wait_s=300) under a Linux dom0 whose
 * pvkit-consoled and `pvkit console` play A's part.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "public/pvkit.h"
#include "gnt.h"
#include <xen/grant_table.h>
#include <xen/io/console.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)

/* B's wait for dom0: 20 s, or wait_s=N (a Linux dom0 with pvkit-consoled, check-dom0). */
static uint64_t b_timeout(void)
{
    return (uint64_t)evt_cmdline_num("wait_s", 20) * 1000 * MS;
}

static char pool[8][4096] __attribute__((aligned(4096)));
static const char before[] = "B: served by the hypervisor\n";
static const char after[] = "B: served by dom0\n";

/* Appends s to the out (or in) side of a ring whose producer/consumer are given. */
static void ring_put(char *buf, size_t size, volatile XENCONS_RING_IDX *prod, const char *s)
{
    XENCONS_RING_IDX p = *prod;
    while (*s)
        buf[p++ & (size - 1)] = *s++;
    __atomic_store_n(prod, p, __ATOMIC_RELEASE);
}

/* Reads what is between *cons and prod into dst (NUL-terminated, at most n-1 bytes). */
static size_t ring_take(const char *buf, size_t size, volatile XENCONS_RING_IDX *cons,
                        XENCONS_RING_IDX prod, char *dst, size_t n)
{
    size_t got = 0;
    XENCONS_RING_IDX c = *cons;
    while (c != prod && got < n - 1)
        dst[got++] = buf[c++ & (size - 1)];
    dst[got] = 0;
    __atomic_store_n(cons, c, __ATOMIC_RELEASE);
    return got;
}

/* ---- B, the domU --------------------------------------------------------- */

/*
 * Waits until B's console port is bound to domain 0 (before that it is
 * bound to the hypervisor, then for a moment unbound for domain 0).
 */
static int port_becomes(evtchn_port_t port, uint32_t want)
{
    evtchn_status_t st;
    uint64_t end = evt_now() + b_timeout();
    while (evt_now() < end) {
        if (evt_status(DOMID_SELF, port, &st) == 0 && st.status == want &&
            st.u.interdomain.dom == 0)
            return 1;
        evt_sleep_ms(2);
    }
    return 0;
}

static void role_b(void)
{
    const start_info_t *si = guest_start_info;
    volatile struct xencons_interface *ring = pt_va_of_mfn(si->console.domU.mfn);
    evtchn_port_t port = si->console.domU.evtchn;
    char got[64] = "";

    TEST("B: a line the hypervisor drains");
    if (!EXPECT(ring != NULL))
        return;
    ring_put((char *)ring->out, sizeof(ring->out), &ring->out_prod, before);
    EXPECT_EQ(evt_send(port), 0);

    TEST("B: the port is handed to dom0, which binds it");
    EXPECT(port_becomes(port, EVTCHNSTAT_interdomain));

    TEST("B: dom0 reads our output and writes our input");
    ring_put((char *)ring->out, sizeof(ring->out), &ring->out_prod, after);
    EXPECT_EQ(evt_send(port), 0);
    uint64_t end = evt_now() + b_timeout();
    size_t n = 0;
    while (!guest_strstr(got, "ping\n") && evt_now() < end) {
        n += ring_take((char *)ring->in, sizeof(ring->in), &ring->in_cons, ring->in_prod,
                       got + n, sizeof(got) - n);
        evt_sleep_ms(2);
    }
    EXPECT(guest_strstr(got, "ping\n") != NULL);
    ring_put((char *)ring->out, sizeof(ring->out), &ring->out_prod, "pong\n");
    EXPECT_EQ(evt_send(port), 0);
    /* Our verdict goes out with console_io, after dom0 has read the ring. */
    end = evt_now() + TIMEOUT;
    while (ring->out_cons != ring->out_prod && evt_now() < end)
        evt_sleep_ms(2);
    EXPECT(ring->out_cons == ring->out_prod);
}

/* ---- A, dom0 ------------------------------------------------------------- */

/* Reads B's output from the ring until it contains `want` or TIMEOUT. */
static int read_until(volatile struct xencons_interface *ring, char *buf, size_t n,
                      const char *want)
{
    uint64_t end = evt_now() + TIMEOUT;
    size_t got = 0;
    buf[0] = 0;
    while (!guest_strstr(buf, want) && evt_now() < end) {
        got += ring_take((const char *)ring->out, sizeof(ring->out), &ring->out_cons,
                         __atomic_load_n(&ring->out_prod, __ATOMIC_ACQUIRE), buf + got, n - got);
        evt_sleep_ms(2);
    }
    return guest_strstr(buf, want) != NULL;
}

static void role_a(void)
{
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map,
                                        .ref = GNTTAB_RESERVED_CONSOLE, .dom = 1 };
    volatile struct xencons_interface *ring = (volatile struct xencons_interface *)pool[1];
    struct pvkit_domctl_console_takeover *t;
    struct xen_domctl op;
    char text[128];

    TEST("A: map B's ring (grant 0); the hypervisor drains it");
    uint64_t end = evt_now() + TIMEOUT;
    gnt_map_retry(&map, end);
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    while (ring->out_cons < sizeof(before) - 1 && evt_now() < end)
        evt_sleep_ms(2);
    EXPECT_EQ(ring->out_cons, sizeof(before) - 1);

    TEST("A: take B's console over");
    EXPECT_EQ(dctl(PVKIT_DOMCTL_console_takeover, 0, &op), -XEN_ENOENT);
    op.domain = 1;
    struct xen_domctl *ro = (struct xen_domctl *)pool[2];
    *ro = op;
    EXPECT_EQ(pt_map_ro(pool[2]), 0);
    EXPECT_EQ(hyp_domctl(ro), -XEN_EFAULT);   /* and nothing changed: */
    EXPECT_EQ(pt_map_rw(pool[2]), 0);
    EXPECT_EQ(dctl(PVKIT_DOMCTL_console_takeover, 1, &op), 0);
    t = (struct pvkit_domctl_console_takeover *)&op.u;
    EXPECT_EQ(t->ring_mfn, map.dev_bus_addr >> 12);
    evtchn_port_t bport = t->port;
    EXPECT(bport != 0);
    long lport = evt_bind_interdomain(1, bport);
    EXPECT(lport > 0);
    EXPECT_EQ(dctl(PVKIT_DOMCTL_console_takeover, 1, &op), 0); /* as a restarted daemon */
    EXPECT_EQ(t->ring_mfn, map.dev_bus_addr >> 12);
    EXPECT_EQ(t->port, bport);
    EXPECT(evt_bind_interdomain(1, bport) < 0);                 /* bound already */

    TEST("A: B's output comes to us, our input goes to B");
    EXPECT(read_until(ring, text, sizeof(text), after));
    ring_put((char *)ring->in, sizeof(ring->in), &ring->in_prod, "ping\n");
    EXPECT_EQ(evt_send((evtchn_port_t)lport), 0);
    EXPECT(read_until(ring, text, sizeof(text), "pong\n"));

    TEST("A: let go of B's ring");
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(evt_close((evtchn_port_t)lport), 0);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
