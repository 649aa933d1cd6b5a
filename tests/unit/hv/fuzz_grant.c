/*
 * libFuzzer target: the grant-table state machine (common/grant_table.c)
 * driven by sequences of operations decoded from the input, on the hosted
 * machine of fuzz_machine.c (domains 0, 1, 2).
 *
 * The operations: a guest writes or revokes an entry of its own table;
 * map_grant_ref / unmap_grant_ref / copy batches (with a hypercall budget
 * that splits them into continued pieces), setup_table, query_size,
 * set/get_version and unknown commands, with arguments biased toward the
 * interesting (refs and frames at and past their limits, frames of other
 * domains, tables, grant frames, the hypervisor's, handles that were and
 * were not handed out, PTE addresses aligned and not); mmu_update batches
 * (page-table stores, over a granted mapping too); a destroydomain piece
 * of domain 1 or 2 and the rebuilding of a freed one (ids are reused).
 *
 * After every operation: the result is 0 or -errno, every status a GNTST_*
 * value, the audit is clean (reference and type counts match every holder,
 * pins match mappings, no mapping names a dead granter, the free count is
 * right), each maptrack's free list and in-use count agree and stay within
 * their limits. After the input, every domain is destroyed and every frame
 * must be free again.
 */
#include <stdint.h>
#include <string.h>
#include "fuzz_machine.h"
#include "pvkit/grant.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"

#define MAX_OPS   64
#define MAX_BATCH 4
#define RECORDS   16        /* mappings remembered per domain, for unmaps */

struct record {             /* a mapping a domain got: what its unmap would name */
    uint32_t handle;
    uint64_t host_addr, dev_bus_addr;
};
static struct record records[MACHINE_DOMAINS][RECORDS];
static unsigned int nr_records[MACHINE_DOMAINS];

static uint32_t pick_ref(struct fuzz_input *in, domid_t dom)
{
    struct domain *d = machine_domain(dom);
    uint32_t n = d ? d->grant_table.nr_frames * (uint32_t)GRANT_PER_FRAME : 512;

    switch (input_pick(in, 6)) {
    case 0: return n - 1;
    case 1: return n;
    case 2: return input_u32(in);
    default: return input_u8(in) % 8;
    }
}

/* A frame: of some domain's data, tables or grant table; reserved, free, beyond RAM, any. */
static uint64_t pick_frame(struct fuzz_input *in)
{
    domid_t dom = (domid_t)input_pick(in, MACHINE_DOMAINS);
    struct domain *d = machine_domain(dom);

    switch (input_pick(in, 8)) {
    case 0: return machine_table(dom, 1 + input_pick(in, 4), 0);
    case 1: return d && d->grant_table.nr_frames ? d->grant_table.frames[0] : 0;
    case 2: return input_pick(in, MACHINE_RESERVED);
    case 3: return MACHINE_FRAMES - 1 - input_pick(in, 4);
    case 4: return MACHINE_FRAMES + input_u8(in);
    case 5: return input_u32(in);
    default: return machine_table(dom, 0, input_u8(in));
    }
}

/* A host address: a page of the caller's address space, a PTE's machine address, any. */
static uint64_t pick_host_addr(struct fuzz_input *in, domid_t self)
{
    uint64_t l1 = machine_table((domid_t)(input_pick(in, 4) ? self : input_pick(in, MACHINE_DOMAINS)),
                                1, 0);
    switch (input_pick(in, 5)) {
    case 0: return l1 << PAGE_SHIFT | (uint64_t)(input_u8(in) % 16) * 8;
    case 1: return l1 << PAGE_SHIFT | (input_u16(in) & 0xfff);
    case 2: return input_u64(in);
    default: return (uint64_t)(input_u8(in) % 16) << PAGE_SHIFT;
    }
}

static uint32_t pick_map_flags(struct fuzz_input *in)
{
    uint32_t f = input_u8(in);
    return input_pick(in, 8) ? f & (GNTMAP_host_map | GNTMAP_device_map | GNTMAP_readonly |
                                    GNTMAP_contains_pte)
                             : input_u32(in);
}

static void check_status(int16_t st)
{
    if (st > 0 || st < GNTST_no_space)
        machine_fail("grant status %d is no GNTST_*", st);
}

/* Each domain's maptrack: its free list and in-use count agree, within the limits. */
static void check_tables(void)
{
    for (domid_t id = 0; id < MACHINE_DOMAINS; id++) {
        struct domain *d = machine_domain(id);
        if (!d)
            continue;
        const struct grant_table *gt = &d->grant_table;
        if (gt->nr_frames > GRANT_MAX_FRAMES || gt->maptrack_pages > MAPTRACK_MAX_PAGES)
            machine_fail("d%u: %u grant frames, %u maptrack pages", id, gt->nr_frames,
                         gt->maptrack_pages);
        uint32_t total = gt->maptrack_pages * MAPTRACK_PER_PAGE, in_use = 0, free = 0;
        for (uint32_t h = 0; h < total; h++)
            in_use += gt->maptrack[h / MAPTRACK_PER_PAGE][h % MAPTRACK_PER_PAGE].in_use;
        for (uint32_t h = gt->maptrack_free_head; h; free++) {
            if (h > total || free > total)
                machine_fail("d%u: maptrack free list broken at %u", id, h);
            const struct maptrack *m = &gt->maptrack[(h - 1) / MAPTRACK_PER_PAGE]
                                                    [(h - 1) % MAPTRACK_PER_PAGE];
            if (m->in_use)
                machine_fail("d%u: handle %u in use and free", id, h - 1);
            h = m->next_free;
        }
        if (in_use != gt->maptrack_in_use || in_use + free != total)
            machine_fail("d%u: maptrack %u in use (count %u), %u free, %u in all", id, in_use,
                         gt->maptrack_in_use, free, total);
    }
}

static void remember(domid_t id, const struct gnttab_map_grant_ref *op)
{
    records[id][nr_records[id]++ % RECORDS] = (struct record){
        .handle = op->handle, .host_addr = op->host_addr, .dev_bus_addr = op->dev_bus_addr };
}

/* Runs a batch of `count` ops of cmd already written at the argument window. */
static void run_batch(struct fuzz_input *in, struct vcpu *v, uint64_t cmd, unsigned int count,
                      size_t size)
{
    uint64_t uop = input_pick(in, 16) ? MACHINE_ARG_VA : MACHINE_ARG_VA + 4096 - size;
    uint64_t args[5] = { cmd, uop, input_pick(in, 16) ? count : input_u32(in) };
    uint8_t *base = machine_arg();

    for (unsigned int i = 0; i < count; i++) {
        const uint64_t *w = (const void *)(base + i * size);
        machine_trace("d%u %s[%u]: %016lx %016lx %016lx %016lx", v->domain->id,
                      cmd == GNTTABOP_map_grant_ref ? "map" : cmd == GNTTABOP_copy ? "copy" : "unmap",
                      i, w[0], w[1], w[2], size > 24 ? w[3] : 0);
    }
    long rc = machine_call(v, do_grant_table_op, args, 1 + input_pick(in, 4), false);
    machine_trace("  count %lu -> %ld", (unsigned long)args[2], rc);
    /* Every op written was done (and has its status) if the call named them all and succeeded. */
    for (unsigned int i = 0; rc == 0 && uop == MACHINE_ARG_VA && i < MIN(count, (uint32_t)args[2]);
         i++) {
        int16_t st;
        if (cmd == GNTTABOP_map_grant_ref) {
            const struct gnttab_map_grant_ref *op = (void *)(base + i * size);
            st = op->status;
            if (!st)
                remember(v->domain->id, op);
        } else if (cmd == GNTTABOP_unmap_grant_ref) {
            st = ((const struct gnttab_unmap_grant_ref *)(void *)(base + i * size))->status;
        } else {
            st = ((const struct gnttab_copy *)(void *)(base + i * size))->status;
        }
        machine_trace("  [%u] status %d", i, st);
        check_status(st);
    }
}

static void op_map(struct fuzz_input *in, struct vcpu *v)
{
    unsigned int count = 1 + input_pick(in, MAX_BATCH);
    struct gnttab_map_grant_ref *ops = machine_arg();

    for (unsigned int i = 0; i < count; i++) {
        domid_t dom = machine_pick_domid(in);
        ops[i] = (struct gnttab_map_grant_ref){
            .host_addr = pick_host_addr(in, v->domain->id), .flags = pick_map_flags(in),
            .ref = pick_ref(in, dom), .dom = dom, .status = 1 };
    }
    run_batch(in, v, GNTTABOP_map_grant_ref, count, sizeof(*ops));
}

static void op_unmap(struct fuzz_input *in, struct vcpu *v)
{
    unsigned int count = 1 + input_pick(in, MAX_BATCH), id = v->domain->id;
    struct gnttab_unmap_grant_ref *ops = machine_arg();

    for (unsigned int i = 0; i < count; i++) {
        struct record r = records[id][input_pick(in, RECORDS)];
        if (!input_pick(in, 8))
            r.handle = input_pick(in, 2) ? input_u32(in) : input_u8(in);
        if (!input_pick(in, 4))
            r.host_addr = input_pick(in, 2) ? 0 : pick_host_addr(in, v->domain->id);
        if (!input_pick(in, 4))
            r.dev_bus_addr = input_pick(in, 2) ? 0 : pick_frame(in) << PAGE_SHIFT;
        ops[i] = (struct gnttab_unmap_grant_ref){ .host_addr = r.host_addr,
                                                  .dev_bus_addr = r.dev_bus_addr,
                                                  .handle = r.handle, .status = 1 };
    }
    run_batch(in, v, GNTTABOP_unmap_grant_ref, count, sizeof(*ops));
}

static void pick_copy_ptr(struct fuzz_input *in, struct gnttab_copy_ptr *p, bool gref)
{
    p->domid = gref || input_pick(in, 4) ? machine_pick_domid(in) : DOMID_SELF;
    if (gref)
        p->u.ref = pick_ref(in, p->domid);
    else
        p->u.gmfn = pick_frame(in);
    p->offset = input_pick(in, 2) ? input_u16(in) : (uint16_t)(input_u8(in) * 16);
}

static void op_copy(struct fuzz_input *in, struct vcpu *v)
{
    unsigned int count = 1 + input_pick(in, MAX_BATCH);
    struct gnttab_copy *ops = machine_arg();

    for (unsigned int i = 0; i < count; i++) {
        struct gnttab_copy c = { .flags = (uint16_t)input_pick(in, 4), .status = 1 };
        pick_copy_ptr(in, &c.source, c.flags & GNTCOPY_source_gref);
        pick_copy_ptr(in, &c.dest, c.flags & GNTCOPY_dest_gref);
        c.len = input_pick(in, 2) ? input_u16(in) : input_u8(in);
        ops[i] = c;
    }
    run_batch(in, v, GNTTABOP_copy, count, sizeof(*ops));
}

/* setup_table, query_size, set_version, get_version, or an unknown command. */
static void op_table(struct fuzz_input *in, struct vcpu *v)
{
    uint8_t *arg = machine_arg();
    uint64_t cmd = input_pick(in, 5);
    static const uint64_t cmds[] = { GNTTABOP_setup_table, GNTTABOP_query_size,
                                     GNTTABOP_set_version, GNTTABOP_get_version };
    uint64_t args[5] = { cmd < 4 ? cmds[cmd] : input_u64(in), MACHINE_ARG_VA,
                         input_pick(in, 8) ? 1 : input_u32(in) };

    memset(arg, 0, 64);
    if (args[0] == GNTTABOP_setup_table) {
        struct gnttab_setup_table *op = (void *)arg;
        op->dom = machine_pick_domid(in);
        op->nr_frames = input_pick(in, 8) ? input_u8(in) % (GRANT_MAX_FRAMES + 4) : input_u32(in);
        set_xen_guest_handle(op->frame_list, (xen_pfn_t *)(uintptr_t)(
            input_pick(in, 4) ? MACHINE_ARG_VA + 1024 : input_u64(in)));
    } else if (args[0] == GNTTABOP_query_size || args[0] == GNTTABOP_get_version) {
        ((struct gnttab_query_size *)(void *)arg)->dom = machine_pick_domid(in);
    } else {
        ((struct gnttab_set_version *)(void *)arg)->version = input_pick(in, 2) ? 1 + input_pick(in, 2)
                                                                                : input_u32(in);
    }
    machine_call(v, do_grant_table_op, args, 1, false);
    if (args[0] == GNTTABOP_setup_table || args[0] == GNTTABOP_query_size)
        check_status(args[0] == GNTTABOP_setup_table
                     ? ((struct gnttab_setup_table *)(void *)arg)->status
                     : ((struct gnttab_query_size *)(void *)arg)->status);
}

/* The guest writes an entry of its own table (any value), or revokes one as Linux does. */
static void op_entry(struct fuzz_input *in, struct vcpu *v)
{
    struct grant_table *gt = &v->domain->grant_table;
    uint32_t ref = input_u16(in) % (gt->nr_frames * (uint32_t)GRANT_PER_FRAME);
    struct grant_entry_v1 *e = (struct grant_entry_v1 *)frame_page(gt->frames[ref / GRANT_PER_FRAME]) +
                               ref % GRANT_PER_FRAME;

    switch (input_pick(in, 4)) {
    case 0: { /* revoke: only while the hypervisor uses it for nothing */
        uint16_t old = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        if (!(old & (GTF_reading | GTF_writing)))
            __atomic_compare_exchange_n(&e->flags, &old, 0, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED);
        break;
    }
    case 1:
        e->flags = input_u16(in);
        machine_trace("d%u entry %u: flags %x", v->domain->id, ref, e->flags);
        break;
    default:
        e->domid = machine_pick_domid(in);
        e->frame = (uint32_t)(input_pick(in, 4) ? machine_table(v->domain->id, 0, input_u8(in))
                                                : pick_frame(in));
        e->flags = (uint16_t)(GTF_permit_access | (input_pick(in, 2) ? GTF_readonly : 0));
        machine_trace("d%u entry %u: frame %x to d%u flags %x", v->domain->id, ref, e->frame,
                      e->domid, e->flags);
        break;
    }
}

/*
 * An mmu_update batch of the caller's: stores into its tables (L1 mostly,
 * over a grant mapping too), of frames of its own or (dom0) another's,
 * plain stores into non-tables, M2P updates, unknown commands.
 */
static void op_mmu_update(struct fuzz_input *in, struct vcpu *v)
{
    unsigned int count = 1 + input_pick(in, MAX_BATCH);
    struct mmu_update *reqs = machine_arg();
    domid_t self = v->domain->id;

    for (unsigned int i = 0; i < count; i++) {
        unsigned int level = input_pick(in, 4) ? 1 : 1 + input_pick(in, 4);
        uint64_t table = input_pick(in, 8) ? machine_table(self, level, 0) : pick_frame(in);
        uint64_t index = input_pick(in, 8) ? input_u8(in) % 16 : input_u16(in) % PT_ENTRIES;
        uint64_t val = pick_frame(in) << PAGE_SHIFT | (input_u16(in) & 0xfff);
        if (input_pick(in, 2))
            val |= PTE_P;
        if (!input_pick(in, 8))
            val = 0;
        reqs[i] = (struct mmu_update){ .ptr = table << PAGE_SHIFT | index * 8 |
                                              (input_pick(in, 8) ? 0 : input_pick(in, 4)),
                                       .val = val };
        machine_trace("d%u mmu_update[%u]: ptr %lx val %lx", self, i, (unsigned long)reqs[i].ptr,
                      (unsigned long)val);
    }
    uint64_t args[5] = { MACHINE_ARG_VA, count,
                         input_pick(in, 2) ? MACHINE_ARG_VA + 2048 : 0,
                         input_pick(in, 4) ? DOMID_SELF : machine_pick_domid(in) };
    long rc = machine_call(v, do_mmu_update, args, 1 + input_pick(in, 4), false);
    machine_trace("  -> %ld", rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { .data = data, .size = size };

    machine_reset();
    memset(records, 0, sizeof(records));
    memset(nr_records, 0, sizeof(nr_records));
    for (unsigned int n = 0; n < MAX_OPS && in.pos < in.size; n++) {
        unsigned int op = input_pick(&in, 8);
        struct vcpu *v = op < 7 ? machine_caller(&in) : NULL;
        if (op < 7 && !v)
            continue;
        switch (op) {
        case 0: case 1: op_map(&in, v); break;
        case 2: op_unmap(&in, v); break;
        case 3: op_copy(&in, v); break;
        case 4: op_table(&in, v); break;
        case 5: op_entry(&in, v); break;
        case 6: op_mmu_update(&in, v); break;
        default: machine_op_domain(&in); break;
        }
        machine_audit();
        check_tables();
    }
    machine_finish();
    return 0;
}
