/*
 * pcache.c - the persistent-grant cache of one queue: an open-addressing
 * hash table from grant reference to a page mapped once and kept until the
 * connection ends (feature-persistent).  Capacity is twice the maximum
 * number of entries, so probing always finds a free slot; entries are never
 * removed individually (the frontend keeps persistent grants for the whole
 * connection), only all at once by pcache_release.
 */
#include "blkback.h"

#include <stdlib.h>

/* Contract: max == 0 makes a cache that never stores anything. */
int pcache_init(struct pcache *pc, unsigned max)
{
    unsigned cap = 16;

    while (cap < 2 * max)
        cap <<= 1;
    pc->ents = calloc(cap, sizeof(*pc->ents));
    pc->cap = cap;
    pc->used = 0;
    pc->max = max;
    return pc->ents ? 0 : -1;
}

/* Contract: returns the slot holding gref, or the free slot where it goes. */
static struct pcache_ent *slot(struct pcache *pc, grant_ref_t gref)
{
    unsigned i = (gref * 2654435761u) & (pc->cap - 1);

    while (pc->ents[i].page && pc->ents[i].gref != gref)
        i = (i + 1) & (pc->cap - 1);
    return &pc->ents[i];
}

void *pcache_get(struct pcache *pc, grant_ref_t gref)
{
    return slot(pc, gref)->page;
}

/* Contract: returns 0 if stored, -1 if the cache is full (caller keeps page). */
int pcache_put(struct pcache *pc, grant_ref_t gref, void *page)
{
    struct pcache_ent *e;

    if (pc->used >= pc->max)
        return -1;
    e = slot(pc, gref);
    e->gref = gref;
    e->page = page;
    pc->used++;
    return 0;
}

/* Contract: unmaps every cached page and frees the table. */
void pcache_release(struct pcache *pc, struct pvk_transport *t)
{
    for (unsigned i = 0; pc->ents && i < pc->cap; i++)
        if (pc->ents[i].page)
            pvk_grant_unmap(t, pc->ents[i].page, 1);
    free(pc->ents);
    pc->ents = NULL;
    pc->used = 0;
}
