/*
 * time_runstate: VCPUOP_register_runstate_memory_area and
 * VCPUOP_get_runstate_info, which Linux reads for steal time and to decide
 * whether a vCPU is preempted. After registration the area says "running"
 * with an entry time not in the future; a 50 ms SCHEDOP_block on the timer
 * adds (about) that much to time[RUNSTATE_blocked]; 50 ms of spinning adds
 * to time[RUNSTATE_running] once the next state change publishes it;
 * get_runstate_info agrees with the area; the times never go back.
 * Hostile: both ops on vCPU 99 (-ENOENT), a NULL argument (-EFAULT).
 */
#include "evt/evt.h"

#define MS 1000000ULL

static struct vcpu_runstate_info rs __attribute__((aligned(64)));
static long tport;

/* A copy of the area taken while it is not being updated. */
static struct vcpu_runstate_info snap(void)
{
    struct vcpu_runstate_info c;

    do {
        c = *(volatile struct vcpu_runstate_info *)&rs;
    } while (c.state_entry_time & XEN_RUNSTATE_UPDATE);
    return c;
}

void test_main(void)
{
    struct vcpu_register_runstate_memory_area area = { .addr.v = &rs };
    struct vcpu_runstate_info a, b, info;
    uint64_t end;

    tport = evt_setup_timer("setup");
    if (tport <= 0)
        return;
    evt_enable();

    TEST("register_runstate_memory_area: running, entry time in the past");
    rs.state = -1;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area), 0);
    a = snap();
    EXPECT_EQ(a.state, RUNSTATE_running);
    EXPECT(a.state_entry_time <= evt_now());
    guest_printf("     running %lu blocked %lu runnable %lu offline %lu ns\n",
                 (unsigned long)a.time[0], (unsigned long)a.time[1],
                 (unsigned long)a.time[2], (unsigned long)a.time[3]);

    TEST("a 50 ms block is counted as blocked time");
    evt_sleep_until(tport, evt_now() + 50 * MS);
    b = snap();
    EXPECT_EQ(b.state, RUNSTATE_running);
    EXPECT(b.state_entry_time > a.state_entry_time);
    EXPECT(b.time[RUNSTATE_blocked] >= a.time[RUNSTATE_blocked] + 40 * MS);
    guest_printf("     blocked +%lu us\n",
                 (unsigned long)((b.time[RUNSTATE_blocked] - a.time[RUNSTATE_blocked]) / 1000));
    for (int i = 0; i < 4; i++)
        EXPECT(b.time[i] >= a.time[i]);

    TEST("50 ms of spinning is counted as running time");
    a = b;
    end = evt_now() + 50 * MS;
    while (evt_now() < end)
        __asm__ volatile("pause");
    evt_sleep_until(tport, evt_now() + MS);   /* a state change publishes it */
    b = snap();
    EXPECT(b.time[RUNSTATE_running] >= a.time[RUNSTATE_running] + 40 * MS);
    guest_printf("     running +%lu us\n",
                 (unsigned long)((b.time[RUNSTATE_running] - a.time[RUNSTATE_running]) / 1000));

    TEST("VCPUOP_get_runstate_info agrees");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 0, &info), 0);
    a = snap();
    EXPECT_EQ(info.state, RUNSTATE_running);
    for (int i = 0; i < 4; i++)
        EXPECT(info.time[i] >= b.time[i]);
    EXPECT(info.state_entry_time >= b.state_entry_time);

    TEST("hostile: vCPU 99, NULL arguments");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 99, &area), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 99, &info), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 0, NULL), -XEN_EFAULT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, NULL), -XEN_EFAULT);
    /* Still updated after the refused calls. */
    evt_sleep_until(tport, evt_now() + MS);
    EXPECT(snap().state_entry_time > a.state_entry_time);
    evt_disable();
}
