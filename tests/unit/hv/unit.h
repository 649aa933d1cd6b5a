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

static inline int unit_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
    const char *filter = getenv("UNIT_FILTER");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
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
