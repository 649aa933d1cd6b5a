/*
 * multi_console (the initial domain and one --domu copy with "role=1";
 * pvkit only): a domU's console ring. Its start_info names a ring page
 * (console.domU.mfn, inside our memory and mapped) and an event channel
 * that is in use; output written to the ring's out[] and announced with
 * out_prod and an event is consumed by the hypervisor (out_cons catches up)
 * and shows on the serial console prefixed with "(d1)" (the runner looks
 * for the line); 150 numbered lines wrap the 2 KiB ring several times.
 * Hostile: an out_prod 100000 bytes ahead of out_cons (more than the ring
 * holds) must not hurt the hypervisor; console_io and timers still work.
 * The ring page, which the hypervisor writes (out_cons), can never become a
 * page table: zeroed and mapped read-only, pinning it as L1..L4 is -EINVAL,
 * and it works as a ring again once mapped writable.
 * The initial domain only checks that it has no ring (it uses console_io).
 */
#include "evt/evt.h"
#include "pt.h"
#include <xen/io/console.h>

#define MS 1000000ULL

static volatile struct xencons_interface *ring;
static evtchn_port_t cport;

/* Waits up to 5 s until the hypervisor has consumed everything. */
static int drained(void)
{
    uint64_t end = evt_now() + 5000 * MS;

    while (ring->out_cons != ring->out_prod && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return ring->out_cons == ring->out_prod;
}

/* Writes S to the ring, waiting for room; notifies; returns 0 or -1. */
static int ring_write(const char *s)
{
    size_t n = guest_strlen(s);
    uint64_t end = evt_now() + 5000 * MS;

    while (n) {
        XENCONS_RING_IDX prod = ring->out_prod;
        uint32_t room = sizeof(ring->out) - (prod - ring->out_cons);

        if (!room) {
            evt_send(cport);
            if (evt_now() > end)
                return -1;
            hyp_sched_op(SCHEDOP_yield, NULL);
            continue;
        }
        while (room-- && n) {
            ring->out[MASK_XENCONS_IDX(prod, ring->out)] = *s++;
            prod++;
            n--;
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        ring->out_prod = prod;
        evt_send(cport);
    }
    return 0;
}

static void role_domu(void)
{
    const start_info_t *si = guest_start_info;
    evtchn_status_t st;
    char line[40];

    TEST("domU: console ring page and event channel in start_info");
    guest_printf("     console.domU mfn %lx evtchn %u\n",
                 (unsigned long)si->console.domU.mfn, si->console.domU.evtchn);
    EXPECT(si->console.domU.mfn != 0);
    EXPECT(si->console.domU.evtchn != 0);
    ring = pt_va_of_mfn(si->console.domU.mfn);
    EXPECT(ring != NULL);
    if (!ring || !si->console.domU.evtchn)
        return;
    cport = si->console.domU.evtchn;
    EXPECT_EQ(evt_status(DOMID_SELF, cport, &st), 0);
    guest_printf("     console port status %u\n", st.status);
    EXPECT(st.status != EVTCHNSTAT_closed);
    EXPECT((uint32_t)(ring->out_prod - ring->out_cons) <= sizeof(ring->out));

    TEST("domU: a line through the ring is consumed");
    EXPECT_EQ(ring_write("multi_console: hello through the ring\n"), 0);
    EXPECT(drained());

    TEST("domU: 150 lines wrap the ring");
    for (int i = 0; i < 150; i++) {
        /* "ring line NNN of 150\n" without printf into a buffer */
        const char *pre = "ring line ";
        size_t k = 0;

        for (const char *p = pre; *p; p++)
            line[k++] = *p;
        line[k++] = (char)('0' + i / 100);
        line[k++] = (char)('0' + i / 10 % 10);
        line[k++] = (char)('0' + i % 10);
        for (const char *p = " of 150\n"; *p; p++)
            line[k++] = *p;
        line[k] = 0;
        if (ring_write(line) != 0)
            break;
    }
    EXPECT(drained());
    EXPECT_EQ(ring_write("multi_console: ring wrapped fine\n"), 0);
    EXPECT(drained());

    TEST("domU hostile: out_prod far ahead of out_cons");
    ring->out_prod = ring->out_cons + 100000;
    evt_send(cport);
    uint64_t end = evt_now() + 200 * MS;
    while (evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    guest_printf("     after the bogus index: out_cons %u out_prod %u\n",
                 ring->out_cons, ring->out_prod);
    EXPECT(hyp_console_io(CONSOLEIO_write, 3, "ok\n") >= 0);
    EXPECT(hyp_xen_version(XENVER_version, NULL) > 0);

    TEST("domU hostile: the ring page never becomes a page table");
    void *page = (void *)ring;
    memset(page, 0, 4096);
    EXPECT_EQ(pt_map_ro(page), 0);
    for (int level = 1; level <= 4; level++) {
        long rc = pt_pin(level, page);
        EXPECT_EQ(rc, -XEN_EINVAL);
        if (rc == 0)
            pt_unpin(page);
    }
    EXPECT_EQ(pt_map_rw(page), 0);
    EXPECT_EQ(ring_write("multi_console: ring usable after the pins\n"), 0);
    EXPECT(drained());
}

void test_main(void)
{
    if (!evt_setup("setup"))
        return;
    if (evt_cmdline_num("role", 0) == 0) {
        TEST("initial domain: no console ring (it uses console_io)");
        EXPECT(guest_start_info->flags & SIF_INITDOMAIN);
        return;
    }
    EXPECT(!(guest_start_info->flags & SIF_INITDOMAIN));
    role_domu();
}
