/*
 * pvh_triple_fault: a PVH guest faults with no usable IDT (a triple fault,
 * the CPU's shutdown). The hypervisor intercepts the shutdown and crashes
 * this domain only (tests/guests/run: expected_death, crash status).
 */
#include "pvh.h"

void test_main(void)
{
    static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };
    TEST("pvh_triple_fault");
    EXPECT(1);
    guest_printf("about to fault with no IDT\n");
    __asm__ volatile("lidt %0; ud2" : : "m"(none));
    guest_printf("faulted with no IDT and survived\n");
}
