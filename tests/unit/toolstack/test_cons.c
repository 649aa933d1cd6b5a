/*
 * Unit tests of pvkit-consoled's ring and log-name logic (backends/consoled/cons.c),
 * with the hostile rings a domU can present: indices that wrap, a producer
 * far ahead of or behind its consumer, a consumer beyond its producer, and
 * names that try to leave the log directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cons.h"

static struct xencons_interface ring;

static void reset(XENCONS_RING_IDX out_cons, XENCONS_RING_IDX out_prod, XENCONS_RING_IDX in_cons,
                  XENCONS_RING_IDX in_prod)
{
    memset(&ring, 0, sizeof(ring));
    for (size_t i = 0; i < sizeof(ring.out); i++)
        ring.out[i] = (char)('a' + i % 26);
    ring.out_cons = out_cons;
    ring.out_prod = out_prod;
    ring.in_cons = in_cons;
    ring.in_prod = in_prod;
}

static void take_reads_what_was_produced(void **state)
{
    char buf[4096];
    (void)state;
    reset(0, 5, 0, 0);
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "abcde", 5);
    assert_int_equal(ring.out_cons, 5);
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), 0);
}

static void take_respects_the_room_given(void **state)
{
    char buf[3];
    (void)state;
    reset(10, 20, 0, 0);
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), 3);
    assert_int_equal(ring.out_cons, 13);
    assert_memory_equal(buf, "klm", 3);
}

static void take_wraps_the_index(void **state)
{
    char buf[16];
    (void)state;
    reset(0xfffffffeu, 2, 0, 0); /* 4 bytes across 2^32 */
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), 4);
    assert_int_equal(ring.out_cons, 2);
    assert_int_equal(buf[0], ring.out[MASK_XENCONS_IDX(0xfffffffeu, ring.out)]);
}

static void take_resyncs_a_bogus_producer(void **state)
{
    char buf[8192];
    (void)state;
    reset(0, 100000, 0, 0); /* more than a ring ahead */
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), sizeof(ring.out));
    assert_int_equal(ring.out_cons, 100000);
    reset(500, 100, 0, 0); /* behind the consumer: prod - cons wraps to huge */
    assert_int_equal(cons_take(&ring, buf, sizeof(buf)), sizeof(ring.out));
    assert_int_equal(ring.out_cons, 100);
}

static void put_fills_only_the_room(void **state)
{
    char data[2048];
    (void)state;
    memset(data, 'x', sizeof(data));
    reset(0, 0, 0, 0);
    assert_int_equal(cons_put(&ring, "ping\n", 5), 5);
    assert_int_equal(ring.in_prod, 5);
    assert_memory_equal(ring.in, "ping\n", 5);
    assert_int_equal(cons_put(&ring, data, sizeof(data)), sizeof(ring.in) - 5);
    assert_int_equal(ring.in_prod - ring.in_cons, sizeof(ring.in));
    assert_int_equal(cons_put(&ring, data, 1), 0); /* full */
    ring.in_cons += 10;
    assert_int_equal(cons_put(&ring, data, sizeof(data)), 10);
}

static void put_refuses_bogus_indices(void **state)
{
    (void)state;
    reset(0, 0, 50, 10); /* consumer ahead of producer */
    assert_int_equal(cons_put(&ring, "a", 1), 0);
    assert_int_equal(ring.in_prod, 10);
    reset(0, 0, 0, 5000); /* producer more than a ring ahead */
    assert_int_equal(cons_put(&ring, "a", 1), 0);
    reset(0, 0, 0xfffffff0u, 0xfffffff0u); /* wraps while writing */
    char data[64];
    memset(data, 'y', sizeof(data));
    assert_int_equal(cons_put(&ring, data, sizeof(data)), sizeof(data));
    assert_int_equal(ring.in_prod, 0x30);
}

/* Random rings: never more than asked, never past the producer, never out of bounds (ASan). */
static void random_rings(void **state)
{
    char buf[5000];
    uint64_t seed = 42;
    (void)state;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        XENCONS_RING_IDX c = (XENCONS_RING_IDX)(seed >> 32), p = c + (uint32_t)(seed >> 20) % 5000;
        if (seed & 1)
            p = (XENCONS_RING_IDX)(seed >> 7);
        size_t n = (size_t)(seed >> 50) % sizeof(buf);
        reset(c, p, p, c);
        size_t got = cons_take(&ring, buf, n);
        assert_true(got <= n && got <= sizeof(ring.out));
        assert_true((XENCONS_RING_IDX)(p - ring.out_cons) <= sizeof(ring.out));
        size_t put = cons_put(&ring, buf, n);
        assert_true(put <= n && put <= sizeof(ring.in));
    }
}

/* Each (domid, name) row gives its file name inside the log directory; a long name is cut to fit. */
static void log_names_stay_in_the_directory(void **state)
{
    static const struct { uint32_t domid; const char *name; const char *want; } cases[] = {
        { 3, "web-1", "web-1.log" },
        { 3, "debian.12_x", "debian.12_x.log" },
        { 3, "../../etc/passwd", "_._.._etc_passwd.log" },
        { 3, "..", "_..log" },
        { 3, ".hidden", "_hidden.log" },
        { 3, "a b\n\xff", "a_b__.log" },
        { 7, "", "d7.log" },
        { 65535, NULL, "d65535.log" },
    };
    char out[CONS_LOG_NAME_MAX];
    char long_name[300];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cons_log_name(cases[i].name, cases[i].domid, out);
        assert_string_equal(out, cases[i].want);
    }
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    cons_log_name(long_name, 1, out);
    assert_int_equal(strlen(out), CONS_LOG_NAME_MAX - 1);
    assert_string_equal(out + strlen(out) - 4, ".log");
    assert_null(strchr(out, '/'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(take_reads_what_was_produced),
        cmocka_unit_test(take_respects_the_room_given),
        cmocka_unit_test(take_wraps_the_index),
        cmocka_unit_test(take_resyncs_a_bogus_producer),
        cmocka_unit_test(put_fills_only_the_room),
        cmocka_unit_test(put_refuses_bogus_indices),
        cmocka_unit_test(random_rings),
        cmocka_unit_test(log_names_stay_in_the_directory),
    };
    return cmocka_run_group_tests_name("cons", tests, NULL, NULL);
}
