/*
 * Tests hypervisor/common/timer_calc.c, the arithmetic on the deadlines and
 * periods a guest passes to vcpu_op, set_timer_op and SCHEDOP_poll. Any
 * 64-bit value may arrive, so the results must saturate rather than wrap,
 * the periodic catch-up must take constant time whatever the gap, and the
 * APIC timer must never be asked to wait longer than it can count.
 */
#include "unit.h"
#include "pvkit/timer_calc.h"

#define MS 1000000ull
#define S  1000000000ull

static void add_saturates(void **state)
{
    (void)state;
    assert_int_equal(time_add_sat(5, 7), 12);
    assert_int_equal(time_add_sat(UINT64_MAX - 1, 1), UINT64_MAX);
    assert_int_equal(time_add_sat(UINT64_MAX - 1, 2), UINT64_MAX);
    assert_int_equal(time_add_sat(4 * S, UINT64_MAX), UINT64_MAX);
    assert_int_equal(time_add_sat(0, 0), 0);
}

static void past_is_signed(void **state)
{
    (void)state;
    assert_true(deadline_is_past(3 * S, 3 * S));
    assert_true(deadline_is_past(2 * S, 3 * S));
    assert_false(deadline_is_past(3 * S + 1, 3 * S));
    assert_true(deadline_is_past(UINT64_MAX, 3 * S));      /* -1 */
    assert_true(deadline_is_past(1ull << 63, 3 * S));      /* INT64_MIN */
    assert_false(deadline_is_past(INT64_MAX, 3 * S));
}

static void periodic_one_step(void **state)
{
    (void)state;
    /* Due now or a little late: one period on, phase kept. */
    assert_int_equal(periodic_next_after(10 * MS, 10 * MS, 10 * MS), 20 * MS);
    assert_int_equal(periodic_next_after(10 * MS, 10 * MS, 13 * MS), 20 * MS);
    /* Several periods missed: the first one after now. */
    assert_int_equal(periodic_next_after(10 * MS, 10 * MS, 45 * MS), 50 * MS);
    assert_int_equal(periodic_next_after(10 * MS, 10 * MS, 50 * MS), 60 * MS);
    /* Not due yet: unchanged. */
    assert_int_equal(periodic_next_after(70 * MS, 10 * MS, 50 * MS), 70 * MS);
}

static void periodic_huge_periods(void **state)
{
    (void)state;
    uint64_t now = 4 * S;
    /* The hang: 2^64-1 and a deadline just past. One step, saturated. */
    assert_int_equal(periodic_next_after(now - 1, UINT64_MAX, now), UINT64_MAX);
    assert_int_equal(periodic_next_after(1, UINT64_MAX, now), UINT64_MAX);
    assert_int_equal(periodic_next_after(now, 1ull << 63, now), now + (1ull << 63));
    assert_int_equal(periodic_next_after(now, 1ull << 63, UINT64_MAX - 1), UINT64_MAX);
    /* The largest period Xen accepts does not wrap from any sane time. */
    assert_int_equal(periodic_next_after(now, TIMER_PERIOD_MAX_NS, now), now + TIMER_PERIOD_MAX_NS);
}

/* Checks the O(1) result against stepping one period at a time (small gaps). */
static void periodic_matches_stepping(void **state)
{
    (void)state;
    uint64_t seed = 11;
    for (int i = 0; i < 100000; i++) {
        uint64_t period = 1 + unit_rand(&seed) % 1000;
        uint64_t next = 1 + unit_rand(&seed) % 100000;
        uint64_t now = next + unit_rand(&seed) % 50000;
        uint64_t want = next;
        while (want <= now)
            want += period;
        assert_int_equal(periodic_next_after(next, period, now), want);
    }
}

static void wait_is_clamped(void **state)
{
    (void)state;
    assert_int_equal(timer_wait_ns(5 * S, 3 * S), 2 * S);
    assert_int_equal(timer_wait_ns(3 * S, 3 * S), 0);
    assert_int_equal(timer_wait_ns(1 * S, 3 * S), 0);
    assert_int_equal(timer_wait_ns(UINT64_MAX, 3 * S), TIMER_PROGRAM_MAX_NS);
    assert_int_equal(timer_wait_ns(INT64_MAX, 3 * S), TIMER_PROGRAM_MAX_NS);
    assert_int_equal(timer_wait_ns(3 * S + TIMER_PROGRAM_MAX_NS, 3 * S), TIMER_PROGRAM_MAX_NS);
    /* 2^40 ns of TSC at 10 GHz still fits in 64 bits with room to spare. */
    assert_true(TIMER_PROGRAM_MAX_NS / S * 10 * S < (1ull << 54));
}

static void timer_op_huge_deadlines(void **state)
{
    (void)state;
    uint64_t now = 3 * S, fallback = now + TIMER_OP_FALLBACK_NS;
    assert_int_equal(timer_op_deadline(now + 10 * MS, now), now + 10 * MS);
    assert_int_equal(timer_op_deadline(now - 10 * MS, now), now - 10 * MS);  /* past: fires */
    assert_int_equal(timer_op_deadline(now + TIMER_OP_HUGE_NS - 1, now),
                     now + TIMER_OP_HUGE_NS - 1);
    assert_int_equal(timer_op_deadline(now + TIMER_OP_HUGE_NS, now), fallback);
    assert_int_equal(timer_op_deadline(INT64_MAX, now), fallback);
    assert_int_equal(timer_op_deadline(1ull << 63, now), fallback);
    assert_int_equal(timer_op_deadline(UINT64_MAX, now), fallback);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_saturates),
        cmocka_unit_test(past_is_signed),
        cmocka_unit_test(periodic_one_step),
        cmocka_unit_test(periodic_huge_periods),
        cmocka_unit_test(periodic_matches_stepping),
        cmocka_unit_test(wait_is_clamped),
        cmocka_unit_test(timer_op_huge_deadlines),
    };
    return UNIT_RUN("timer_calc", tests);
}
