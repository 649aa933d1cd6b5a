/*
 * console_keys: a PV kernel that stays up reading console input, for the
 * launcher self-test of the console keys (selftest, case "Ctrl-A x3").
 * Not one of the check-guests kernels: it waits for a person (or the
 * self-test) to type.
 *
 * It binds VIRQ_CONSOLE, prints "console_keys: waiting for input" and then
 * sleeps (SCHEDOP_block, woken by VIRQ_CONSOLE or the timer) reading what
 * arrives with CONSOLEIO_read, printing one "console_keys: got 0xNN" line per
 * byte. A 'q' ends the run: poweroff (status 0). Nothing for `wait=` seconds
 * (command line, default 60) ends it as crashed, as does a failed call.
 */
#include "evt/evt.h"

#define MS 1000000ULL

void test_main(void)
{
    long cport, tport;
    uint64_t end;
    static char buf[16];
    int quit = 0;

    TEST("console_keys: VIRQ_CONSOLE and the timer");
    EXPECT_EQ(evt_init(), 0);
    cport = evt_bind_virq(VIRQ_CONSOLE, 0);
    EXPECT(cport > 0);
    tport = evt_timer_port();
    EXPECT(tport > 0);
    if (cport <= 0 || tport <= 0)
        return;
    end = evt_now() + (uint64_t)evt_cmdline_num("wait", 60) * 1000 * MS;

    guest_printf("console_keys: waiting for input ('q' ends)\n");
    while (!quit && evt_now() < end) {
        unsigned int seen = evt_count[cport];
        long i, n = hyp_console_io(CONSOLEIO_read, sizeof(buf), buf);

        if (n < 0) {
            EXPECT_EQ(n, 0);
            return;
        }
        for (i = 0; i < n; i++) {
            guest_printf("console_keys: got 0x%02x\n", (unsigned char)buf[i]);
            if (buf[i] == 'q')
                quit = 1;
        }
        uint64_t now = evt_now();
        if (n == 0 && !quit && now < end)
            evt_block_until((evtchn_port_t)cport, seen + 1, end - now, NULL);
    }
    TEST("console_keys: 'q' typed before the deadline");
    EXPECT(quit);
}
