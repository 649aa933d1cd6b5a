/*
 * Walking a guest's page tables in software (mm/guest_walk.c): the one
 * walker behind update_va_mapping and grant mappings (which L1 entry maps an
 * address), the emulation of stores into page tables (which L1 table an
 * address writes) and the LDT window (which frame holds an LDT page). Each
 * walks v's kernel page tables, with the hypervisor lock held.
 */
#ifndef PVKIT_GUEST_WALK_H
#define PVKIT_GUEST_WALK_H

#include "pvkit/domain.h"

/* guest_frame_of's answer when va maps nothing. */
#define GUEST_NO_FRAME (~0ull)

/* The frame mapped at va in v's kernel page tables, or GUEST_NO_FRAME. */
uint64_t guest_frame_of(const struct vcpu *v, uint64_t va);
/*
 * The validated L1 table (and entry index) that maps va in v's kernel page
 * tables. 0, or -XEN_EINVAL if no such L1 is in use there.
 */
int guest_l1_entry_of(struct vcpu *v, uint64_t va, uint64_t *l1_mfn, unsigned int *index);
/*
 * The validated L1 table of v's domain that v's kernel page tables map at
 * va (a store to va writes one of its entries). 0, or -XEN_EINVAL if va
 * maps no such table.
 */
int guest_l1_table_at(struct vcpu *v, uint64_t va, uint64_t *l1_mfn);

#endif
