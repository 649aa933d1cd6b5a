/*
 * mmu_ptowner: mmu_update's foreigndom argument beyond its low 16 bits.
 *
 * Xen's ABI: bits 16-31 of foreigndom name the page tables' owner plus one
 * (0: the caller). A domain that does not exist there is -ESRCH, before
 * any request is read; naming the caller itself is as if 0. pvkit's count-1
 * fast path and its general path both look at the low 16 bits only.
 *
 * Checks (count 1: the fast path; count 2: the general one), each writing
 * entries of a pinned L1: pt owner = ourselves (domain 0, the initial
 * domain, + 1) -> 0, the entries written; pt owner = domain 0x7f00 (none)
 * -> -ESRCH, the entries unchanged.
 */
#include "traps.h"
#include "pt.h"

#define PT_OWNER(id) (((unsigned int)(id) + 1) << 16)

static char pool[4][4096] __attribute__((aligned(4096)));
static mmu_update_t req[2];

void test_main(void)
{
    pt_pool_init(pool, 4);
    EXPECT_EQ(trap_install(-1), 0);
    uint64_t *t = pt_alloc();
    void *data = pt_alloc();

    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    for (unsigned int count = 1; count <= 2; count++) {
        for (unsigned int i = 0; i < 2; i++) {
            req[i].ptr = pt_ma_of(&t[i]);
            req[i].val = pt_pte(data, PTE_DATA_RO);
        }
        TEST(count == 1 ? "count 1, page-table owner: ourselves -> applied"
                        : "count 2, page-table owner: ourselves -> applied");
        EXPECT_EQ(hyp_mmu_update(req, count, NULL, PT_OWNER(0) | DOMID_SELF), 0);
        EXPECT(t[0] != 0);
        EXPECT_EQ(pt_mmu1(req[0].ptr, 0), 0);
        EXPECT_EQ(pt_mmu1(req[1].ptr, 0), 0);

        TEST(count == 1 ? "count 1, page-table owner: no such domain -> -ESRCH, nothing done"
                        : "count 2, page-table owner: no such domain -> -ESRCH, nothing done");
        long rc = hyp_mmu_update(req, count, NULL, PT_OWNER(0x7f00) | DOMID_SELF);
        guest_printf("     rc %ld, entry 0x%lx\n", rc, (unsigned long)t[0]);
        EXPECT_EQ(rc, -XEN_ESRCH);
        EXPECT_EQ(t[0], 0);
        EXPECT_EQ(pt_mmu1(req[0].ptr, 0), 0);
        EXPECT_EQ(pt_mmu1(req[1].ptr, 0), 0);
    }
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}
