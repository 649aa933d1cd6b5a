/*
 * multi_create_logflood (the initial domain alone, its own image as
 * --initrd; pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): the
 * hypervisor's 16 KiB log ring read while a domain floods the console.
 *
 * A child created at run time writes FLOOD_LINES numbered lines
 * ("flood NNNNN") with CONSOLEIO_write, then powers off; the ring wraps many
 * times meanwhile. We (on our CPU, the child on the other) read the ring
 * incrementally with XEN_SYSCTL_readconsole in 1000-byte pieces until the
 * child is gone, printing nothing ourselves; once we wait until the ring
 * has overtaken us (a count-0 read answers a later index), and now and then
 * we pause 60 ms. Every answer must hold:
 * count <= the room given; the index answered is the start + count, the
 * start being the index we asked for or, when that byte was overwritten,
 * a later one (never an earlier one, never past the end); and the text read
 * is the console's: every complete "(dN) flood NNNNN" line read after a
 * contiguous stretch began carries a number above the one before (nothing
 * torn or reordered), and no byte is outside printable ASCII, CR or LF.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define FLOOD_LINES 3000
#define PIECE 1000

static char buf[PIECE + 1];
static char linebuf[256];

static void flood(void)
{
    for (unsigned int i = 0; i < FLOOD_LINES; i++)
        guest_printf("flood %05u\n", i);
    guest_shutdown(SHUTDOWN_poweroff);
}

static unsigned int parse_num(const char *s)
{
    unsigned int n = 0;
    while (*s >= '0' && *s <= '9')
        n = n * 10 + (unsigned int)(*s++ - '0');
    return n;
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1)
        flood();
    if (!create_setup("setup: a child that floods the console"))
        return;
    struct xen_domctl op;
    create_child_op(&op, 0, 8192, "multi_create_logflood role=1");
    uint64_t free0 = free_pages();
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t id = op.domain;

    TEST("read the ring incrementally while it floods");
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_readconsole,
                            .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    /* Start at the end: one whole read first. */
    static char whole[20000];
    set_xen_guest_handle(s.u.readconsole.buffer, whole);
    s.u.readconsole.count = sizeof(whole);
    EXPECT_EQ(hyp_sysctl(&s), 0);
    uint32_t index = s.u.readconsole.index;
    unsigned long reads = 0, bytes = 0, skips = 0, lines = 0, bad_count = 0, bad_index = 0,
                  bad_byte = 0, bad_order = 0, rc_bad = 0;
    unsigned int last = 0, len = 0;
    int have_last = 0, in_sync = 1;
    struct xen_domctl info;
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, id, &info), 0);
    uint64_t end = evt_now() + 60000 * MS;
    for (;;) {
        int gone = dctl(XEN_DOMCTL_getdomaininfo, id, &info) == 0 && info.domain == id &&
                   (info.u.getdomaininfo.flags & XEN_DOMINF_shutdown);
        s.u.readconsole = (struct xen_sysctl_readconsole){ .incremental = 1, .count = PIECE,
                                                           .index = index };
        set_xen_guest_handle(s.u.readconsole.buffer, buf);
        if (hyp_sysctl(&s)) {
            rc_bad++;
            break;
        }
        reads++;
        uint32_t n = s.u.readconsole.count, got_end = s.u.readconsole.index;
        bad_count += n > PIECE;
        uint32_t start = got_end - n;
        if (start != index) {
            /* Overwritten before we read it: the answer starts later, never earlier. */
            if ((int32_t)(start - index) < 0)
                bad_index++;
            skips++;
            in_sync = 0;
            len = 0;
            have_last = 0;
        }
        index = got_end;
        bytes += n;
        for (uint32_t i = 0; i < n && i < PIECE; i++) {
            char ch = buf[i];
            if (!((ch >= 32 && ch < 127) || ch == '\n' || ch == '\r'))
                bad_byte++;
            if (ch != '\n') {
                if (len < sizeof(linebuf) - 1)
                    linebuf[len++] = ch;
                continue;
            }
            linebuf[len] = 0;
            if (in_sync) {
                const char *f = guest_strstr(linebuf, ") flood ");
                if (f && linebuf[0] == '(') {
                    unsigned int num = parse_num(f + 8);
                    if (have_last && num <= last)
                        bad_order++;
                    last = num;
                    have_last = 1;
                    lines++;
                }
            }
            in_sync = 1; /* the next line starts whole */
            len = 0;
        }
        if (gone && n == 0)
            break;
        if (reads == 4) { /* once: wait until the ring has overtaken us (or the child ends) */
            struct xen_sysctl q = s;
            uint64_t t = evt_now();
            do {
                q.u.readconsole = (struct xen_sysctl_readconsole){ .incremental = 1,
                                                                   .index = index };
                if (hyp_sysctl(&q))
                    break;
            } while (q.u.readconsole.index == index && evt_now() - t < 20000 * MS &&
                     !(dctl(XEN_DOMCTL_getdomaininfo, id, &info) == 0 && info.domain == id &&
                       (info.u.getdomaininfo.flags & XEN_DOMINF_shutdown)));
        } else if (reads % 8 == 0) { /* now and then fall behind */
            uint64_t t = evt_now();
            while (evt_now() - t < 60 * MS)
                __asm__ volatile("pause");
        }
        if (evt_now() > end)
            break;
    }
    guest_printf("     %lu reads, %lu bytes, %lu skips, %lu flood lines checked, last %u\n",
                 reads, bytes, skips, lines, last);
    EXPECT_EQ(rc_bad, 0);
    EXPECT_EQ(bad_count, 0);
    EXPECT_EQ(bad_index, 0);
    EXPECT_EQ(bad_byte, 0);
    EXPECT_EQ(bad_order, 0);
    EXPECT(lines > 100);
    EXPECT(skips > 0);

    TEST("the child powered off; destroyed, nothing lost");
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &info), 0);
    EXPECT(info.u.getdomaininfo.flags & XEN_DOMINF_shutdown);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &info), 0);
    EXPECT_EQ(free_pages(), free0);
}
