/*
 * Shared glue for the hypervisor unit tests: cmocka's headers in the order it
 * needs, and a main() helper that honours UNIT_FILTER so one test (or a glob
 * of tests) can be run alone, e.g.
 *   UNIT_FILTER='parse_u64_*' build/unit/test_lib
 * The hypervisor sources are compiled for the host unchanged; only lib.c
 * needs the renaming wrapper in lib_host.c (see there for why).
 */
#ifndef PVKIT_UNIT_H
#define PVKIT_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static inline int unit_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    const char *filter = getenv("UNIT_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

/* What unit_watchdog's alarm prints before it ends the binary. */
static const char *unit_watchdog_msg;

static inline void unit_watchdog_fired(int sig)
{
    (void)sig;
    (void)!write(2, unit_watchdog_msg, strlen(unit_watchdog_msg));
    _exit(1);
}

/* Contract: a test still running SECONDS seconds from now ends the binary
 * (status 1) with MSG, a line, on stderr: a loop that never ends is a
 * failure, not a hang. SECONDS 0 disarms it. */
static inline void unit_watchdog(unsigned seconds, const char *msg)
{
    unit_watchdog_msg = msg;
    signal(SIGALRM, unit_watchdog_fired);
    alarm(seconds);
}

#define UNIT_RUN(name, tests) unit_run(name, tests, sizeof(tests) / sizeof((tests)[0]))

/* A small deterministic PRNG (xorshift64*) so property and fuzz tests replay exactly. */
static inline uint64_t unit_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif
