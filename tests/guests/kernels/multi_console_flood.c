/*
 * multi_console_flood (the initial domain and one --domu copy with
 * "role=1"; pvkit only): an unprivileged domain cannot flood the console.
 *
 * The domU writes FLOOD_LINES lines of 100 bytes ("flood NNNNN xxx...")
 * with CONSOLEIO_write, each call answered 0, then sleeps a second (its
 * budget refills) and prints its verdict. The runner counts the flood lines
 * in the log and allows at most 10000, a quarter (tests/guests/run
 * max_text): pvkit lets an unprivileged domain print a burst of 128 KiB and
 * then 32 KiB/s, i.e. ~1300 lines plus ~330 per second the flood lasts
 * (about 6 s under TCG: 3100 lines; the bound allows a host four times
 * slower). Without the limit all 40000 lines (4 MB) reach the serial line,
 * which took 43 s. The initial domain is not
 * limited (its output is the machine's console): it checks that it keeps
 * running while the flood goes on, with no hypercall gap over 200 ms.
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define FLOOD_LINES 40000
#define LINE_LEN 100
#define STALL_BOUND (200 * MS)

static char line[LINE_LEN + 1];

/* "flood NNNNN " (the line number), 'x' up to the newline. */
static void make_line(unsigned int i)
{
    const char *head = "flood ";
    size_t k = 0;

    for (; head[k]; k++)
        line[k] = head[k];
    for (unsigned int d = 10000; d; d /= 10)
        line[k++] = (char)('0' + i / d % 10);
    line[k++] = ' ';
    while (k < LINE_LEN - 1)
        line[k++] = 'x';
    line[LINE_LEN - 1] = '\n';
}

static void role_domu(void)
{
    unsigned long bad = 0;
    uint64_t t0, t1;

    TEST("domU: 40000 lines of console_io, each answered 0");
    t0 = evt_now();
    for (unsigned int i = 0; i < FLOOD_LINES; i++) {
        make_line(i);
        if (hyp_console_io(CONSOLEIO_write, LINE_LEN, line) != 0)
            bad++;
    }
    t1 = evt_now();
    EXPECT_EQ(bad, 0);

    TEST("domU: after a second the console takes our lines again");
    while (evt_now() < t1 + 1000 * MS)
        hyp_sched_op(SCHEDOP_yield, NULL);
    guest_printf("\n     flood took %lu ms\n", (unsigned long)((t1 - t0) / MS));
    EXPECT(1);
}

static void role_dom0(void)
{
    uint64_t t0 = evt_now(), prev = t0, now = t0, worst = 0;

    TEST("dom0: runs on, no hypercall gap over 200 ms for 3 s");
    while (now - t0 < 3000 * MS) {
        hyp_xen_version(XENVER_version, NULL);
        now = evt_now();
        if (now - prev > worst)
            worst = now - prev;
        prev = now;
    }
    guest_printf("     worst gap %lu us\n", (unsigned long)(worst / 1000));
    EXPECT(worst < STALL_BOUND);
}

void test_main(void)
{
    if (!evt_setup("setup: shared_info (the pvclock)"))
        return;
    if (evt_cmdline_num("role", 0) == 0)
        role_dom0();
    else
        role_domu();
}
