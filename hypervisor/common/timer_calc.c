/*
 * Timer arithmetic on guest-supplied times (see pvkit/timer_calc.h).
 */
#include "pvkit/timer_calc.h"

uint64_t time_add_sat(uint64_t t, uint64_t delta)
{
    uint64_t sum;
    return __builtin_add_overflow(t, delta, &sum) ? UINT64_MAX : sum;
}

bool deadline_is_past(uint64_t deadline, uint64_t now)
{
    return (int64_t)deadline <= (int64_t)now;
}

uint64_t periodic_next_after(uint64_t next, uint64_t period, uint64_t now)
{
    uint64_t periods, step;

    if (next > now)
        return next;
    periods = (now - next) / period + 1;
    if (__builtin_mul_overflow(periods, period, &step))
        return UINT64_MAX;
    return time_add_sat(next, step);
}

uint64_t timer_wait_ns(uint64_t deadline, uint64_t now)
{
    return deadline > now ? MIN(deadline - now, TIMER_PROGRAM_MAX_NS) : 0;
}

uint64_t timer_op_deadline(uint64_t timeout, uint64_t now)
{
    bool huge = (int64_t)timeout < 0 || (timeout > now && timeout - now >= TIMER_OP_HUGE_NS);
    return huge ? time_add_sat(now, TIMER_OP_FALLBACK_NS) : timeout;
}
