/*
 * Frame table and machine-frame allocator (see pvkit/frame.h).
 *
 * Free frames form a singly linked list threaded through the table by index,
 * so allocation and freeing are O(1) and need no memory of their own. Freed
 * frames go to the head: recently used frames are likely still in cache.
 */
#include "pvkit/frame.h"
#include "pvkit/xenabi.h"

_Static_assert(FRAME_COUNTED_OWNERS == DOMID_FIRST_RESERVED, "every domain id is counted");

/* Gives frame f to `owner` (an initialised entry), keeping the owned counts. */
static void set_frame(struct frame_table *ft, struct frame *f, struct frame value)
{
    if (f->owner < FRAME_COUNTED_OWNERS)
        ft->owned[f->owner]--;
    if (value.owner < FRAME_COUNTED_OWNERS)
        ft->owned[value.owner]++;
    *f = value;
}

void frames_init(struct frame_table *ft, struct frame *storage, uint64_t nr_frames)
{
    ft->frames = storage;
    ft->nr_frames = nr_frames;
    ft->free_head = FRAME_NO_NEXT;
    ft->nr_free = 0;
    ft->nr_io_ranges = 0;
    memset(ft->owned, 0, sizeof(ft->owned));
    for (uint64_t i = 0; i < nr_frames; i++) {
        storage[i] = (struct frame){ .owner = OWNER_NONE, .next_free = FRAME_NO_NEXT };
    }
}

static void push_free(struct frame_table *ft, uint64_t mfn)
{
    set_frame(ft, &ft->frames[mfn], (struct frame){ .owner = OWNER_FREE, .next_free = ft->free_head });
    ft->free_head = (uint32_t)mfn;
    ft->nr_free++;
}

void frames_add_free(struct frame_table *ft, uint64_t first, uint64_t end)
{
    end = MIN(end, ft->nr_frames);
    /* Push in reverse so allocation hands out ascending frame numbers. */
    for (uint64_t mfn = end; mfn-- > first;)
        if (ft->frames[mfn].owner == OWNER_NONE)
            push_free(ft, mfn);
}

static void unlink_free(struct frame_table *ft, uint64_t mfn)
{
    uint32_t *link = &ft->free_head;
    while (*link != FRAME_NO_NEXT && *link != mfn)
        link = &ft->frames[*link].next_free;
    if (*link == mfn) {
        *link = ft->frames[mfn].next_free;
        ft->nr_free--;
    }
}

void frames_reserve(struct frame_table *ft, uint64_t first, uint64_t end)
{
    end = MIN(end, ft->nr_frames);
    for (uint64_t mfn = first; mfn < end; mfn++) {
        if (ft->frames[mfn].owner == OWNER_FREE)
            unlink_free(ft, mfn);
        set_frame(ft, &ft->frames[mfn],
                  (struct frame){ .owner = OWNER_RESERVED, .next_free = FRAME_NO_NEXT });
    }
}

int64_t frame_alloc(struct frame_table *ft, uint32_t owner)
{
    uint32_t mfn = ft->free_head;
    if (mfn == FRAME_NO_NEXT)
        return -XEN_ENOMEM;
    struct frame *f = &ft->frames[mfn];
    ft->free_head = f->next_free;
    ft->nr_free--;
    set_frame(ft, f, (struct frame){ .owner = owner, .next_free = FRAME_NO_NEXT });
    return mfn;
}

int frame_free(struct frame_table *ft, uint64_t mfn)
{
    struct frame *f = frame_get(ft, mfn);
    if (!f || f->owner == OWNER_FREE || f->owner == OWNER_NONE ||
        f->owner == OWNER_RESERVED || f->ref_count || f->type_count)
        return -XEN_EINVAL;
    push_free(ft, mfn);
    return 0;
}

int frames_restrict_io(struct frame_table *ft, uint64_t first, uint64_t end,
                       enum io_access access)
{
    if (ft->nr_io_ranges == FRAME_IO_RANGES_MAX)
        return -XEN_ENOSPC;
    ft->io_ranges[ft->nr_io_ranges++] = (struct frame_io_range){ first, end, access };
    return 0;
}

enum io_access frame_io_access(const struct frame_table *ft, uint64_t mfn)
{
    enum io_access access = IO_ACCESS_RW;
    for (unsigned int i = 0; i < ft->nr_io_ranges; i++)
        if (mfn >= ft->io_ranges[i].first && mfn < ft->io_ranges[i].end)
            access = MAX(access, ft->io_ranges[i].access);
    return access;
}
