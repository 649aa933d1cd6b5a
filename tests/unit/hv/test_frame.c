/*
 * Tests hypervisor/mm/frame.c, the machine-frame allocator. Every page a
 * guest or the hypervisor owns comes from here, so a frame handed out twice,
 * or a reserved frame (the hypervisor image, the frame table, boot modules)
 * handed out at all, breaks memory isolation. The tests check the documented
 * order (ascending on a fresh table), every refusal of frame_free(), that
 * refusals change nothing, and -- property style -- long random sequences of
 * allocations and frees against a trivially correct reference model.
 */
#include <stdbool.h>
#include <string.h>
#include "unit.h"
#include "pvkit/frame.h"
#include "pvkit/xenabi.h"

#define NR 256

static struct frame storage[NR];
static struct frame_table ft;

static int setup(void **state)
{
    (void)state;
    memset(storage, 0x5a, sizeof(storage)); /* frames_init must not rely on zeroed storage */
    frames_init(&ft, storage, NR);
    return 0;
}

/* Each domain's owned count equals the frames that name it (the tests use owners 0-7). */
static void check_owned_counts(void)
{
    for (uint32_t owner = 0; owner < 8; owner++) {
        uint64_t n = 0;
        for (uint64_t m = 0; m < NR; m++)
            n += ft.frames[m].owner == owner;
        assert_int_equal(frames_owned(&ft, owner), n);
    }
    assert_int_equal(frames_owned(&ft, OWNER_HV), 0);
    assert_int_equal(frames_owned(&ft, OWNER_FREE), 0);
}

/* Walks the free list, checking each free frame appears once and the count matches. */
static void check_free_list(void)
{
    bool seen[NR] = { false };
    uint64_t n = 0;
    for (uint32_t m = ft.free_head; m != FRAME_NO_NEXT; m = ft.frames[m].next_free) {
        assert_true(m < NR);
        assert_false(seen[m]);
        seen[m] = true;
        assert_int_equal(ft.frames[m].owner, OWNER_FREE);
        assert_int_equal(ft.frames[m].ref_count, 0);
        assert_int_equal(ft.frames[m].type_count, 0);
        assert_int_equal(ft.frames[m].type, FRAME_TYPE_NONE);
        n++;
    }
    assert_int_equal(n, ft.nr_free);
    for (uint64_t m = 0; m < NR; m++)
        if (!seen[m])
            assert_int_not_equal(ft.frames[m].owner, OWNER_FREE);
    check_owned_counts();
}

static void init_state(void **state)
{
    (void)state;
    assert_int_equal(ft.nr_frames, NR);
    assert_int_equal(ft.nr_free, 0);
    assert_int_equal(ft.free_head, FRAME_NO_NEXT);
    for (int i = 0; i < NR; i++) {
        assert_int_equal(storage[i].owner, OWNER_NONE);
        assert_int_equal(storage[i].ref_count, 0);
        assert_int_equal(storage[i].type_count, 0);
    }
    /* Nothing added: nothing to allocate. */
    assert_int_equal(frame_alloc(&ft, 1), -XEN_ENOMEM);
}

static void alloc_ascending_then_enomem(void **state)
{
    (void)state;
    frames_add_free(&ft, 16, 32);
    frames_add_free(&ft, 100, 104);
    assert_int_equal(ft.nr_free, 20);
    check_free_list();
    /* The most recently added range comes first, each range in ascending order. */
    for (int64_t m = 100; m < 104; m++)
        assert_int_equal(frame_alloc(&ft, 7), m);
    for (int64_t m = 16; m < 32; m++) {
        assert_int_equal(frame_alloc(&ft, 7), m);
        assert_int_equal(storage[m].owner, 7);
    }
    assert_int_equal(ft.nr_free, 0);
    assert_int_equal(frame_alloc(&ft, 7), -XEN_ENOMEM);
    assert_int_equal(frame_alloc(&ft, 7), -XEN_ENOMEM);
    check_free_list();
}

static void add_free_clips_and_skips_owned(void **state)
{
    (void)state;
    frames_add_free(&ft, NR - 4, NR + 1000); /* past the table: ignored */
    assert_int_equal(ft.nr_free, 4);
    frames_add_free(&ft, NR - 4, NR);         /* already free: not added twice */
    assert_int_equal(ft.nr_free, 4);
    frames_add_free(&ft, 10, 10);             /* empty range */
    frames_add_free(&ft, 20, 10);             /* backwards range */
    assert_int_equal(ft.nr_free, 4);
    frames_reserve(&ft, 40, 41);
    frames_add_free(&ft, 38, 43);             /* 40 is the hypervisor's */
    assert_int_equal(ft.nr_free, 8);
    assert_int_equal(storage[40].owner, OWNER_RESERVED);
    int64_t m = frame_alloc(&ft, 3);
    assert_int_equal(m, 38);
    assert_int_equal(frame_alloc(&ft, 3), 39);
    assert_int_equal(frame_alloc(&ft, 3), 41);
    check_free_list();
    assert_int_equal(frames_owned(&ft, 3), 3);
    frames_reserve(&ft, 39, 40);              /* an owned frame reserved: no longer 3's */
    assert_int_equal(frames_owned(&ft, 3), 2);
    assert_int_equal(frame_free(&ft, 38), 0);
    assert_int_equal(frames_owned(&ft, 3), 1);
    check_free_list();
}

static void reserve_takes_frames_off_the_list(void **state)
{
    (void)state;
    frames_add_free(&ft, 0, 64);
    frames_reserve(&ft, 0, 1);      /* the head */
    frames_reserve(&ft, 30, 34);    /* the middle */
    frames_reserve(&ft, 63, 70);    /* the tail, and past it */
    frames_reserve(&ft, NR, NR + 5); /* wholly past the table */
    assert_int_equal(ft.nr_free, 64 - 1 - 4 - 1);
    check_free_list();
    for (int m = 0; m < 70; m++) {
        bool reserved = m == 0 || (m >= 30 && m < 34) || m >= 63;
        if (reserved)
            assert_int_equal(storage[m].owner, OWNER_RESERVED);
    }
    int64_t m;
    while ((m = frame_alloc(&ft, 1)) >= 0)
        assert_false(m == 0 || (m >= 30 && m < 34) || m >= 63);
    assert_int_equal(m, -XEN_ENOMEM);
}

static void free_returns_frame_first(void **state)
{
    (void)state;
    frames_add_free(&ft, 0, 8);
    int64_t a = frame_alloc(&ft, 1), b = frame_alloc(&ft, 1);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    storage[b].type = FRAME_TYPE_L1;
    storage[b].flags = FRAME_VALIDATED;
    assert_int_equal(frame_free(&ft, (uint64_t)b), 0);
    assert_int_equal(ft.nr_free, 7);
    /* A freed frame is clean: no type, flags or counts survive. */
    assert_int_equal(storage[b].owner, OWNER_FREE);
    assert_int_equal(storage[b].type, FRAME_TYPE_NONE);
    assert_int_equal(storage[b].flags, 0);
    check_free_list();
    assert_int_equal(frame_alloc(&ft, 2), b);
    assert_int_equal(storage[b].type, FRAME_TYPE_NONE);
    assert_int_equal(storage[b].owner, 2);
}

static void free_refusals_change_nothing(void **state)
{
    (void)state;
    frames_add_free(&ft, 0, 16);
    int64_t a = frame_alloc(&ft, 1);
    assert_int_equal(a, 0);
    struct frame before[NR];
    struct frame_table ft_before;

    memcpy(before, storage, sizeof(storage));
    ft_before = ft;
    assert_int_equal(frame_free(&ft, 5), -XEN_EINVAL);          /* already free */
    assert_int_equal(frame_free(&ft, 200), -XEN_EINVAL);        /* not RAM */
    assert_int_equal(frame_free(&ft, NR), -XEN_EINVAL);         /* past the table */
    assert_int_equal(frame_free(&ft, UINT64_MAX), -XEN_EINVAL);
    assert_int_equal(frame_free(&ft, 1ull << 32), -XEN_EINVAL);
    assert_memory_equal(before, storage, sizeof(storage));
    assert_memory_equal(&ft_before, &ft, sizeof(ft));

    storage[a].ref_count = 1;                                    /* still mapped */
    assert_int_equal(frame_free(&ft, (uint64_t)a), -XEN_EINVAL);
    storage[a].ref_count = 0;
    storage[a].type_count = 1;                                   /* still typed */
    assert_int_equal(frame_free(&ft, (uint64_t)a), -XEN_EINVAL);
    storage[a].type_count = 0;
    assert_int_equal(storage[a].owner, 1);
    assert_int_equal(ft.nr_free, 15);

    assert_int_equal(frame_free(&ft, (uint64_t)a), 0);
    assert_int_equal(frame_free(&ft, (uint64_t)a), -XEN_EINVAL); /* double free */
    assert_int_equal(ft.nr_free, 16);
    check_free_list();
}

static void frame_get_bounds(void **state)
{
    (void)state;
    assert_ptr_equal(frame_get(&ft, 0), &storage[0]);
    assert_ptr_equal(frame_get(&ft, NR - 1), &storage[NR - 1]);
    assert_null(frame_get(&ft, NR));
    assert_null(frame_get(&ft, UINT64_MAX));
}

/*
 * Random alloc/free/reserve sequences against a reference model: a per-frame
 * state array. The allocator may choose any free frame, but it must be one
 * the model says is free, and it must refuse exactly what the model refuses.
 */
enum model_state { M_NONE, M_FREE, M_USED, M_HV };

static void random_sequences_match_model(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ull;

    for (int round = 0; round < 40; round++) {
        enum model_state model[NR];
        uint64_t nr_free = 0;

        frames_init(&ft, storage, NR);
        for (int m = 0; m < NR; m++)
            model[m] = M_NONE;
        /* A few random RAM ranges, a few random reservations. */
        for (int i = 0; i < 4; i++) {
            uint64_t a = unit_rand(&seed) % NR, len = unit_rand(&seed) % 64;
            frames_add_free(&ft, a, a + len);
            for (uint64_t m = a; m < a + len && m < NR; m++)
                if (model[m] == M_NONE)
                    model[m] = M_FREE, nr_free++;
        }
        for (int i = 0; i < 2; i++) {
            uint64_t a = unit_rand(&seed) % NR, len = unit_rand(&seed) % 8;
            frames_reserve(&ft, a, a + len);
            for (uint64_t m = a; m < a + len && m < NR; m++) {
                if (model[m] == M_FREE)
                    nr_free--;
                model[m] = M_HV;
            }
        }
        assert_int_equal(ft.nr_free, nr_free);

        for (int step = 0; step < 2000; step++) {
            uint64_t r = unit_rand(&seed);
            if (r % 3 == 0) {
                int64_t m = frame_alloc(&ft, (uint32_t)(r >> 32) % 8);
                if (nr_free == 0) {
                    assert_int_equal(m, -XEN_ENOMEM);
                    continue;
                }
                assert_true(m >= 0 && m < NR);
                assert_int_equal(model[m], M_FREE); /* never handed out twice */
                model[m] = M_USED;
                nr_free--;
            } else {
                uint64_t m = (r >> 16) % (NR + 8); /* sometimes past the table */
                int rc = frame_free(&ft, m);
                if (m < NR && model[m] == M_USED) {
                    assert_int_equal(rc, 0);
                    model[m] = M_FREE;
                    nr_free++;
                } else {
                    /* Out of range, not RAM, already free, or reserved at boot. */
                    assert_int_equal(rc, -XEN_EINVAL);
                }
            }
            assert_int_equal(ft.nr_free, nr_free);
        }
        check_free_list();
        for (int m = 0; m < NR; m++)
            assert_int_equal(storage[m].owner == OWNER_FREE, model[m] == M_FREE);
    }
}

/*
 * Regression (fixed): frames taken by frames_reserve() (the hypervisor image,
 * frame table, M2P, boot modules) once shared the owner of the hypervisor's
 * run-time allocations, so frame_free() would put, say, the frame table on
 * the free list. They are OWNER_RESERVED now and frame_free() refuses them.
 */
static void free_of_reserved_frame(void **state)
{
    (void)state;
    frames_add_free(&ft, 0, 16);
    frames_reserve(&ft, 4, 5);
    assert_int_equal(frame_free(&ft, 4), -XEN_EINVAL);
    assert_int_equal(ft.nr_free, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(init_state, setup),
        cmocka_unit_test_setup(alloc_ascending_then_enomem, setup),
        cmocka_unit_test_setup(add_free_clips_and_skips_owned, setup),
        cmocka_unit_test_setup(reserve_takes_frames_off_the_list, setup),
        cmocka_unit_test_setup(free_returns_frame_first, setup),
        cmocka_unit_test_setup(free_refusals_change_nothing, setup),
        cmocka_unit_test_setup(frame_get_bounds, setup),
        cmocka_unit_test_setup(random_sequences_match_model, setup),
        cmocka_unit_test_setup(free_of_reserved_frame, setup),
    };
    return UNIT_RUN("frame", tests);
}
