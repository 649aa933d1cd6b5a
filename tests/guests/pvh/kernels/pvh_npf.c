/*
 * pvh_npf: a PVH guest reads guest-physical memory it does not have (its
 * own page tables map it, the nested tables do not). The hypervisor takes
 * the nested page fault and crashes this domain only; it survives to
 * report it (tests/guests/run: expected_death, crash status).
 */
#include "pvh.h"

void test_main(void)
{
    const struct hvm_memmap_table_entry *m =
        (const void *)(unsigned long)pvh_start_info->memmap_paddr;
    volatile const uint64_t *outside = (const uint64_t *)(m->addr + m->size + (8ul << 20));
    TEST("pvh_npf");
    EXPECT(1);
    guest_printf("about to read outside its memory at %p\n", (const void *)outside);
    (void)*outside;
    guest_printf("read outside its memory and survived\n");
}
