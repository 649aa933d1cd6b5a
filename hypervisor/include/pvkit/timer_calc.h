/*
 * Timer arithmetic on guest-supplied times, kept pure so host tests can
 * check it (common/timer_calc.c). Deadlines are system times in ns. A guest
 * may pass any 64-bit value, so nothing here wraps: sums saturate, and no
 * loop runs per period.
 */
#ifndef PVKIT_TIMER_CALC_H
#define PVKIT_TIMER_CALC_H

#include "pvkit/lib.h"

/* VCPUOP_set_periodic_timer bounds, as Xen: 1 ms (1 kHz) to STIME_DELTA_MAX. */
#define TIMER_PERIOD_MIN_NS     1000000ull
#define TIMER_PERIOD_MAX_NS     ((1ull << 62) - 1)
/* The longest wait the APIC timer is programmed for (~18 min); later
 * deadlines take an early interrupt that re-arms. */
#define TIMER_PROGRAM_MAX_NS    (1ull << 40)
/* set_timer_op, as Xen: a deadline negative or this far away is taken for a
 * wrapped Linux jiffy value and replaced by one TIMER_OP_FALLBACK_NS away. */
#define TIMER_OP_HUGE_NS        (1ull << 50)
#define TIMER_OP_FALLBACK_NS    100000000ull

/* t + delta, or UINT64_MAX if that does not fit. */
uint64_t time_add_sat(uint64_t t, uint64_t delta);

/*
 * True if `deadline` is not after `now`, both read as signed system times
 * (as Xen's s_time_t): a value with bit 63 set is in the past.
 */
bool deadline_is_past(uint64_t deadline, uint64_t now);

/*
 * The next deadline of a periodic timer due at `next` with period `period`
 * (> 0): the first next + k * period (k >= 0) after `now`, in O(1);
 * UINT64_MAX if that does not fit in 64 bits.
 */
uint64_t periodic_next_after(uint64_t next, uint64_t period, uint64_t now);

/* Nanoseconds from `now` to `deadline`: 0 if it is past, at most TIMER_PROGRAM_MAX_NS. */
uint64_t timer_wait_ns(uint64_t deadline, uint64_t now);

/* The deadline set_timer_op arms for a non-zero `timeout` at `now` (see TIMER_OP_HUGE_NS). */
uint64_t timer_op_deadline(uint64_t timeout, uint64_t now);

#endif
