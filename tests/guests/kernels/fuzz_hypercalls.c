/*
 * fuzz_hypercalls (the initial domain alone, given its own image as its
 * initrd; pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): a hypercall
 * fuzzer. The promise under test: an unprivileged guest can only crash
 * itself -- whatever it calls, the hypervisor neither faults nor hangs, the
 * other domain notices nothing, and once the guest is destroyed every frame
 * it had is free again (tests/guests/README.md has the figures).
 *
 * The parent (role 0, the privileged domain) runs the fuzzer as a child
 * domain built from our initrd, in segments: "seed=S start=I end=N" on the
 * child's command line. Call i of seed S draws all its randomness from
 * splitmix64(S, i), so any call is reproducible from (S, i) alone, and a
 * segment that ends early is resumed at the next call. The child writes its
 * progress (the call it is in, calls done, faults caught) into a page of
 * the parent's that the parent grants it (ref PROG_REF): not one of its own,
 * which the frame numbers its calls name (grant copies, reservations) could
 * overwrite. A segment ends when the child finishes, shuts itself down (a rare random
 * SCHEDOP_shutdown), is killed for what it did to itself, or makes no
 * progress for STALL_NS (it blocked itself for good): the parent destroys
 * it, checks the machine's free pages are exactly what they were before the
 * create (the hypervisor's audit, audit=on-death, checks the frame table at
 * each death and prints any mismatch; tests/guests/run fails on it), and
 * starts the next segment at the call after the last one begun. A segment
 * counts as done only if the child says so (progress->finished) and then
 * powers off: a child that wrecked its own record can die with a shutdown
 * code of poweroff. After a death the next segment is half as long (after a
 * finished one twice), so a death the record misplaced is closed in on
 * rather than replayed (the segments are the same calls again). Stalls in
 * a block or poll are told apart: a poll still blocked STALL_NS/2 past the
 * deadline it gave, set by a clock that agreed with ours, is a wake-up the
 * hypervisor missed, a failure. The figures (calls, calls/s, faults,
 * deaths, stalls) are printed per seed.
 *
 * The child (role=1) issues one call per index: a random hypercall 0-63
 * with sub-ops in and out of range and arguments biased toward interesting
 * values (0, -1, page boundaries, hypervisor addresses, its own page-table
 * frames, the parent's frames (o1=, o2=), ports / vCPUs / grant refs at and
 * past their limits); an mmu_update batch with one bad entry in the middle;
 * a multicall whose entries are random calls; or a store into its own page
 * tables through the writable-page-table path. Structures it points at are
 * pages of scratch filled with the same biased words.
 *
 * What the child aims no address or page-table entry at (its protected
 * core): its image, stack, start_info, the progress page and the
 * page-table entries that map them. (Calls that name frames by number, as a
 * grant copy does, may still hit its own pages: damage that ends a
 * segment.) Frames and page-table entries it may aim at are the scratch
 * pages, a
 * sacrificial tree hooked at L4 slot SAC_SLOT, the entries of its core
 * tables that were empty at start (and the core L1 entries of the scratch
 * pages), its core table frames as frames (pinning, mapping them, using them
 * as GDT or page: all refused or harmless while they are in use), and other
 * domains' frames. Filters, each named where it is applied: no NEW_BASEPTR
 * to anything but the current L4 or frames it cannot be; SCHEDOP_block /
 * poll get a deadline; no VCPUOP_down of vCPU 0; iret, shutdown and
 * VCPUOP_register_vcpu_info with a readable argument are rare; the trap
 * table, callbacks, debug registers and writable page tables are restored
 * after the calls that change them; a scratch mapping changed by a call is
 * restored before the next (if it cannot be, the segment ends).
 *
 * pair=1 (fuzz_pair, fuzz_pair_long in tests/guests/run): two fuzzers at
 * once, seeds S and S+1 (S+2 and S+3 next, ... up to `seeds`), each with
 * its own child and progress page (grant PROG_REF + k), so two children
 * run on the two CPUs together; the free pages are checked when both are
 * done. victim=ID names a boot-time domU started with role=2: the victim
 * fills 64 pages with a pattern and, until dom0 sets stop in the report
 * page it grants dom0 (ref VICTIM_REF), checks them and sleeps 1 ms on its
 * single-shot timer, recording how late the timer fires; it checks no
 * word changed and no timer was VICTIM_LATE_MAX_NS late.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"
#include "traps.h"
#include "public/pvkit.h"
#include "create.h"
#include "gnt.h"

#define MS 1000000ULL
#define CHILD_KB 8192
#define STALL_NS (500 * MS)
#define NR_SCRATCH 8
#define SAC_SLOT 1                      /* L4 slot of the sacrificial tree */
#define SAC_VA (1UL << 39)
#define FZ_MAGIC 0x7a7a667a7a667a7aUL
#define MAX_SEGMENTS(calls) ((calls) / 256 + 64)  /* more: the child cannot get on */
#define PROG_REF 77                     /* the parent's grant of the progress page */

/* What the child tells the parent, at the start of the page the parent grants it. */
struct fz_progress {
    uint64_t magic;
    uint64_t cur;        /* index of the call begun last */
    uint64_t done;       /* calls completed in this segment */
    uint64_t faults;     /* faults of our own caught and survived */
    uint64_t wrpt;       /* writable-page-table stores made */
    uint64_t cur_nr;     /* hypercall number of call `cur` (wrpt: 1000) */
    uint64_t cur_args[5];
    uint64_t wait_until;  /* block / poll: the deadline it set, on its own clock */
    uint64_t wait_set_at; /* and that clock when it set it */
    uint64_t finished;    /* FZ_MAGIC ^ end once every call of the segment was made */
};

/* ---- randomness ------------------------------------------------------------ */

/* splitmix64: the next value of *s. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A value below n (n > 0). */
static uint64_t below(uint64_t *s, uint64_t n)
{
    return rnd(s) % n;
}

/* ---- the child's world: scratch, sacrificial tree, pools ------------------- */

static uint8_t scratch[NR_SCRATCH][4096] __attribute__((aligned(4096)));
static uint64_t sac_l3[512] __attribute__((aligned(4096)));
static uint64_t sac_l2[512] __attribute__((aligned(4096)));
static uint64_t sac_l1[2][512] __attribute__((aligned(4096)));
static char pool[4][4096] __attribute__((aligned(4096)));

static uint64_t scratch_pte[NR_SCRATCH];       /* original PTE of each scratch page */
static volatile uint64_t *scratch_pte_va[NR_SCRATCH]; /* that entry, read-only view */

#define NR_FRAMES 24
static uint64_t frames[NR_FRAMES];             /* interesting mfns */
static unsigned int nr_frames;
#define NR_PTR_MAS 64
static uint64_t pte_mas[NR_PTR_MAS];           /* entries we may rewrite */
static unsigned int nr_pte_mas;
static volatile uint64_t *wrpt_targets[NR_PTR_MAS]; /* the same, as read-only views */
static unsigned int nr_wrpt;
static uint64_t core_l4_mfn, own_id, max_ram_mfn;
static uint64_t other_mfn[2];

static struct fz_progress *progress;
static char prog_win[4096] __attribute__((aligned(4096)));
static struct trap_ctx recover;
static volatile int armed;      /* the loop is running: our faults unwind to it */
#define MAX_FAULT_RUN 50        /* faults in a row with no call completed: the segment ends */
static uint64_t show = ~0ULL;   /* show=N: print call N before issuing it */

/* Adds mfn to the frame pool. */
static void add_frame(uint64_t mfn)
{
    if (nr_frames < NR_FRAMES)
        frames[nr_frames++] = mfn;
}

/* Adds the entry at read-only view E (machine address MA) to the rewrite pools. */
static void add_pte(volatile uint64_t *e, uint64_t ma)
{
    if (nr_pte_mas < NR_PTR_MAS)
        pte_mas[nr_pte_mas++] = ma;
    if (nr_wrpt < NR_PTR_MAS)
        wrpt_targets[nr_wrpt++] = e;
}

/* An interesting frame number. */
static uint64_t pick_mfn(uint64_t *s)
{
    switch (below(s, 8)) {
    case 0: return below(s, 4);
    case 1: return max_ram_mfn + below(s, 3) - 1;
    case 2: return 1ULL << (32 + below(s, 9));
    case 3: return other_mfn[below(s, 2)];
    case 4: return below(s, max_ram_mfn + 1);
    default: return frames[below(s, nr_frames)];
    }
}

/* A page-table entry value: an interesting frame with random flags. */
static uint64_t pick_pte(uint64_t *s)
{
    static const uint64_t bits[] = { PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_G,
                                     PTE_NX, PTE_PCD, PTE_PWT, 1UL << 51, 1UL << 52, 1UL << 9 };
    uint64_t v = pick_mfn(s) << 12;

    if (below(s, 16) == 0)
        return rnd(s);
    v |= PTE_P | (below(s, 2) ? PTE_RW : 0) | PTE_A;
    for (unsigned int n = (unsigned int)below(s, 3); n; n--)
        v ^= bits[below(s, sizeof(bits) / sizeof(bits[0]))];
    return v;
}

/* A guest address: scratch (at page edges), sacrificial, hypervisor, bad. */
static uint64_t pick_ptr(uint64_t *s)
{
    static const uint64_t bad[] = {
        0, ~0UL, 0xffff800000000000UL, 0xffff830000000000UL, 0xffff87fffffff000UL,
        0xffff880000000000UL - 8, 0x00007ffffffff000UL, 0x00007ffffffffff8UL,
        0x0000800000000000UL, 0x8000000000000000UL, 4096, SAC_VA + (600UL << 12),
    };
    uint64_t base = (uint64_t)scratch[below(s, NR_SCRATCH)];

    switch (below(s, 10)) {
    case 0: case 1: return bad[below(s, sizeof(bad) / sizeof(bad[0]))];
    case 2: return base + 4096 - 8 * below(s, 3) - below(s, 2);
    case 3: return SAC_VA + (below(s, 1024) << 12) + 8 * below(s, 512);
    case 4: return base + below(s, 4096);
    default: return base + 8 * below(s, 64);
    }
}

/* A word for a structure field or an argument, biased toward limits. */
static uint64_t pick_word(uint64_t *s)
{
    static const uint64_t lim[] = {
        0, 1, 2, 3, ~0UL, ~1UL, 0x7f, 0x80, 0xff, 0x100, 511, 512, 513, 1023, 1024,
        1025, 4095, 4096, 4097, 16383, 16384, 0x7fff, 0x8000, 0xffff, 0x10000,
        0x7fffffff, 0x80000000, 0xffffffff, 1UL << 32, 0x7fffffffffffffffUL,
        0x8000000000000000UL, 7, 8, 31, 32, 63, 64, 0x7ff0, 0x7ff1, 0x7ff2, 0x7ff4,
        15, 16, 0x00aa0000UL,
    };

    switch (below(s, 8)) {
    case 0: return rnd(s);
    case 1: case 2: return lim[below(s, sizeof(lim) / sizeof(lim[0]))];
    case 3: return pick_ptr(s);
    case 4: return pick_mfn(s);
    case 5: return pick_pte(s);
    case 6: return below(s, 2) ? own_id : pte_mas[below(s, nr_pte_mas)];
    default: return below(s, 32);
    }
}

/* Fills scratch page i with biased words. */
static void fill_scratch(uint64_t *s, unsigned int i)
{
    uint64_t *w = (uint64_t *)scratch[i];
    for (unsigned int k = 0; k < 512; k++)
        w[k] = below(s, 4) ? pick_word(s) : below(s, 64);
}

/* ---- generating calls -------------------------------------------------------- */

struct fz_call {
    uint64_t nr, a[5];
};

#define WRPT_NR 1000 /* cur_nr of a writable-page-table store */

static void gen_call(uint64_t *s, struct fz_call *c, int depth);

/* mmu_update: a batch of up to 16 into entries we may rewrite, one of them bad. */
static void gen_mmu_update(uint64_t *s, struct fz_call *c)
{
    mmu_update_t *req = (mmu_update_t *)scratch[2];
    unsigned int n = 1 + (unsigned int)below(s, 16);

    for (unsigned int i = 0; i < n; i++) {
        req[i].ptr = pte_mas[below(s, nr_pte_mas)] | (below(s, 8) ? 0 : below(s, 4));
        req[i].val = below(s, 4) ? pick_pte(s) : 0;
        if (req[i].ptr & MMU_MACHPHYS_UPDATE)     /* only our own frames' M2P */
            req[i].ptr = (frames[below(s, 4)] << 12) | MMU_MACHPHYS_UPDATE;
    }
    req[n / 2].ptr = below(s, 2) ? pick_word(s) : req[n / 2].ptr;
    req[n / 2].val = rnd(s);
    c->a[0] = below(s, 16) ? (uint64_t)req : pick_ptr(s);
    c->a[1] = below(s, 16) ? n : pick_word(s);
    c->a[2] = below(s, 2) ? 0 : pick_ptr(s);
    c->a[3] = below(s, 4) ? DOMID_SELF : pick_word(s);
}

/* mmuext_op: a batch of up to 4 random commands; filter: NEW_BASEPTR only to our L4 or frames no L4 can be. */
static void gen_mmuext(uint64_t *s, struct fz_call *c)
{
    struct mmuext_op *op = (struct mmuext_op *)scratch[3];
    unsigned int n = 1 + (unsigned int)below(s, 4);

    for (unsigned int i = 0; i < n; i++) {
        op[i].cmd = (unsigned int)(below(s, 8) ? below(s, 24) : pick_word(s));
        op[i].arg1.mfn = below(s, 3) ? pick_mfn(s) : pick_word(s);
        op[i].arg2.src_mfn = below(s, 2) ? pick_mfn(s) : pick_word(s);
        if (op[i].cmd == MMUEXT_NEW_BASEPTR)
            op[i].arg1.mfn = below(s, 2) ? core_l4_mfn : other_mfn[below(s, 2)];
    }
    c->a[0] = below(s, 16) ? (uint64_t)op : pick_ptr(s);
    c->a[1] = below(s, 16) ? n : pick_word(s);
    c->a[2] = below(s, 2) ? 0 : pick_ptr(s);
    c->a[3] = below(s, 4) ? DOMID_SELF : pick_word(s);
}

/*
 * sched_op (29) and sched_op_compat (6). Filters: shutdown, remote_shutdown
 * and watchdog are rare (each ends the segment); block is mostly a poll
 * (its timer VIRQ may be closed or masked by then); block and poll get a timer
 * 1 ms away (poll also that timeout), its VIRQ bound again if a call closed
 * it; inside a multicall (whose entries share the scratch pages: the poll
 * structure could be overwritten) both are yields.
 */
static void gen_sched(uint64_t *s, struct fz_call *c, int depth)
{
    struct sched_poll *p = (struct sched_poll *)scratch[4];
    uint64_t cmd = below(s, 8) ? below(s, 10) : pick_word(s);

    if ((cmd == SCHEDOP_shutdown || cmd == SCHEDOP_remote_shutdown ||
         cmd == SCHEDOP_watchdog) && below(s, 512))
        cmd = SCHEDOP_yield;
    if ((cmd == SCHEDOP_block || cmd == SCHEDOP_poll) && depth)
        cmd = SCHEDOP_yield;
    if (cmd == SCHEDOP_block && below(s, 8))    /* its wake-up may be gone: see the README */
        cmd = SCHEDOP_poll;
    c->a[0] = cmd;
    c->a[1] = pick_ptr(s);
    if (cmd == SCHEDOP_poll) {
        p->ports.p = (evtchn_port_t *)scratch[5];
        p->nr_ports = (unsigned int)below(s, 4);
        c->a[1] = (uint64_t)p;
    }
    if (cmd == SCHEDOP_block || cmd == SCHEDOP_poll) {
        long port = evt_bind_virq(VIRQ_TIMER, 0);   /* -EEXIST if still bound */
        if (port > 0)
            evt_unmask((evtchn_port_t)port);
        progress->wait_set_at = evt_now();
        progress->wait_until = progress->wait_set_at + MS;
        hyp_set_timer_op(progress->wait_until);
        if (cmd == SCHEDOP_poll)
            p->timeout = progress->wait_until;
    }
    if (c->nr == __HYPERVISOR_sched_op_compat && cmd == SCHEDOP_shutdown)
        c->a[1] = below(s, 8);
}

/* multicall: up to 8 entries, each a random call (nested once at most). */
static void gen_multicall(uint64_t *s, struct fz_call *c, int depth)
{
    multicall_entry_t *m = (multicall_entry_t *)scratch[depth ? 7 : 6];
    unsigned int n = 1 + (unsigned int)below(s, 8);

    for (unsigned int i = 0; i < n; i++) {
        struct fz_call e;
        gen_call(s, &e, depth + 1);
        m[i].op = e.nr;
        for (int k = 0; k < 5; k++)
            m[i].args[k] = e.a[k];
        m[i].args[5] = pick_word(s);
        m[i].result = rnd(s);
    }
    c->a[0] = below(s, 16) ? (uint64_t)m : pick_ptr(s);
    c->a[1] = below(s, 16) ? n : pick_word(s);
}

/* memory_op: reservations name only scratch and sacrificial pfns (our core pfns stay ours). */
static void gen_memory(uint64_t *s, struct fz_call *c)
{
    struct xen_memory_reservation *r = (struct xen_memory_reservation *)scratch[4];
    uint64_t *ext = (uint64_t *)scratch[5];
    uint64_t cmd = below(s, 8) ? below(s, 32) : pick_word(s);

    c->a[0] = cmd;
    c->a[1] = pick_ptr(s);
    if (cmd > XENMEM_decrease_reservation && cmd != XENMEM_populate_physmap &&
        cmd != XENMEM_exchange)
        return;
    for (unsigned int i = 0; i < 64; i++)
        ext[i] = below(s, 4) ? pt_pfn_of(scratch[below(s, NR_SCRATCH)]) : pick_word(s) | (1UL << 40);
    if (cmd == XENMEM_exchange) {   /* both halves of xen_memory_exchange point at ext */
        struct xen_memory_exchange *x = (struct xen_memory_exchange *)r;
        x->in.extent_start.p = (xen_pfn_t *)ext;
        x->out.extent_start.p = (xen_pfn_t *)ext + 32;
        x->in.nr_extents = below(s, 4);
        x->out.nr_extents = below(s, 4);
        x->in.domid = x->out.domid = DOMID_SELF;
        x->nr_exchanged = below(s, 4) ? 0 : pick_word(s);
    } else {
        r->extent_start.p = (xen_pfn_t *)ext;
        r->nr_extents = below(s, 2) ? below(s, 4) : pick_word(s);
        r->extent_order = (unsigned int)(below(s, 2) ? 0 : pick_word(s));
        r->mem_flags = (unsigned int)(below(s, 2) ? 0 : pick_word(s));
        r->domid = (domid_t)(below(s, 2) ? DOMID_SELF : pick_word(s));
    }
    c->a[1] = (uint64_t)r;
}

/* update_va_mapping (14) / _otherdomain (22): an address of ours that is not core. */
static void gen_uvm(uint64_t *s, struct fz_call *c)
{
    static const uint64_t flags[] = { 0, UVMF_INVLPG, UVMF_TLB_FLUSH, UVMF_INVLPG | UVMF_ALL,
                                      UVMF_TLB_FLUSH | UVMF_ALL, 3 };
    c->a[0] = below(s, 3) ? SAC_VA + (below(s, 1024) << 12) : pick_ptr(s) & ~4095UL;
    c->a[1] = pick_pte(s);
    c->a[2] = below(s, 8) ? flags[below(s, 6)] : pick_word(s);
    if (below(s, 8) == 0)
        c->a[2] = UVMF_MULTI | pick_ptr(s);
    c->a[3] = below(s, 2) ? DOMID_SELF : pick_word(s);
}

/*
 * vcpu_op. Filters: VCPUOP_down of vCPU 0 (ourself) would stop us for good;
 * VCPUOP_register_vcpu_info mostly gets an unreadable argument (moved onto
 * a scratch page our filling rewrites, our vcpu_info would raise upcalls
 * our callback cannot clear: a livelock, the segment's end).
 */
static void gen_vcpu(uint64_t *s, struct fz_call *c)
{
    c->a[0] = below(s, 8) ? below(s, 16) : pick_word(s);
    c->a[1] = below(s, 2) ? 0 : pick_word(s);
    c->a[2] = pick_ptr(s);
    if ((c->a[0] == VCPUOP_down) && (uint32_t)c->a[1] == 0)
        c->a[0] = VCPUOP_is_up;
    if (c->a[0] == VCPUOP_register_vcpu_info && below(s, 256))
        c->a[2] = 0xffff830000000000UL + below(s, 4096);
}

/*
 * console_io: reads anything; writes are short, of fixed text or from
 * addresses the hypervisor must refuse (its own range, non-canonical): the
 * log is shared, and binary bytes in it would hide the verdict from grep.
 */
static void gen_console(uint64_t *s, struct fz_call *c)
{
    static const char text[] = "[fz]";
    static const uint64_t refused[] = { 0xffff830000000000UL, 0xffff87fffffffff0UL,
                                        0x0000800000000000UL, 0x8000000000000000UL };

    c->a[0] = below(s, 4) ? CONSOLEIO_read : below(s, 8) ? CONSOLEIO_write : pick_word(s);
    c->a[1] = c->a[0] == CONSOLEIO_write ? below(s, 5) : pick_word(s);
    c->a[2] = pick_ptr(s);
    if (c->a[0] == CONSOLEIO_write)
        c->a[2] = below(s, 2) ? (uint64_t)text : refused[below(s, 4)] + below(s, 4096);
}

/* A sub-op: usually in range (below n), sometimes any word. */
static uint64_t pick_subop(uint64_t *s, uint64_t n)
{
    return below(s, 8) ? below(s, n) : pick_word(s);
}

/*
 * Fills *c with a random call for nesting depth `depth` (0: top level, 1: a
 * multicall entry, 2: an entry of a nested multicall, which is no multicall).
 */
static void gen_call(uint64_t *s, struct fz_call *c, int depth)
{
    c->nr = below(s, 64);
    for (int k = 0; k < 5; k++)
        c->a[k] = below(s, 2) ? pick_ptr(s) : pick_word(s);
    switch (c->nr) {
    case __HYPERVISOR_mmu_update: gen_mmu_update(s, c); break;
    case __HYPERVISOR_mmuext_op: gen_mmuext(s, c); break;
    case __HYPERVISOR_sched_op:
    case __HYPERVISOR_sched_op_compat: gen_sched(s, c, depth); break;
    case __HYPERVISOR_memory_op: gen_memory(s, c); break;
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_update_va_mapping_otherdomain: gen_uvm(s, c); break;
    case __HYPERVISOR_vcpu_op: gen_vcpu(s, c); break;
    case __HYPERVISOR_console_io: gen_console(s, c); break;
    case __HYPERVISOR_multicall:
        if (depth >= 2)
            c->nr = __HYPERVISOR_xen_version;
        else
            gen_multicall(s, c, depth);
        break;
    case __HYPERVISOR_iret:     /* filter: takes its frame from our stack; rare (a segment end) */
        if (below(s, 256))
            c->nr = __HYPERVISOR_xen_version;
        break;
    case __HYPERVISOR_grant_table_op: c->a[0] = pick_subop(s, 14); c->a[2] = pick_subop(s, 4); break;
    case __HYPERVISOR_event_channel_op: c->a[0] = pick_subop(s, 16); break;
    case __HYPERVISOR_xen_version: c->a[0] = pick_subop(s, 16); break;
    case __HYPERVISOR_physdev_op: c->a[0] = pick_subop(s, 32); break;
    case __HYPERVISOR_callback_op: c->a[0] = pick_subop(s, 4); break;
    case __HYPERVISOR_vm_assist: c->a[0] = pick_subop(s, 2); c->a[1] = pick_subop(s, 8); break;
    case __HYPERVISOR_set_segment_base: c->a[0] = pick_subop(s, 6); break;
    case __HYPERVISOR_set_debugreg:
    case __HYPERVISOR_get_debugreg: c->a[0] = pick_subop(s, 9); break;
    case __HYPERVISOR_pvkit_op: c->a[0] = pick_subop(s, 3); c->a[2] = pick_subop(s, 300); break;
    default: break;
    }
}

/* ---- the child ------------------------------------------------------------------ */

/* True if hypercall nr (or any multicall entry) may change what repair() restores. */
static int needs_repair(uint64_t nr)
{
    switch (nr) {
    case __HYPERVISOR_set_trap_table: case __HYPERVISOR_set_callbacks:
    case __HYPERVISOR_fpu_taskswitch: case __HYPERVISOR_set_debugreg:
    case __HYPERVISOR_callback_op: case __HYPERVISOR_vm_assist:
    case __HYPERVISOR_multicall: case __HYPERVISOR_iret:
        return 1;
    default:
        return 0;
    }
}

/* Restores our trap table, callbacks, debug registers, FPU and writable page tables. */
static void repair(void)
{
    trap_install(-1);
    evt_register_callback();
    hyp_set_debugreg(7, 0);
    hyp_fpu_taskswitch(0);
    hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables);
}

/* Puts back scratch mappings a call changed; 0, or -1 if one cannot be (a segment end). */
static int restore_scratch(void)
{
    for (unsigned int i = 0; i < NR_SCRATCH; i++) {
        if ((*scratch_pte_va[i] & ~(PTE_A | PTE_D)) == (scratch_pte[i] & ~(PTE_A | PTE_D)))
            continue;
        if (hyp_update_va_mapping((unsigned long)scratch[i], scratch_pte[i], UVMF_INVLPG))
            return -1;
    }
    return 0;
}

/*
 * Kernel-mode traps while the loop runs (not the probes of wrpt_store):
 * #DB and #NM are put right and resumed; anything else unwinds to the loop,
 * which goes on with the next call.
 */
static int fuzz_trap(struct trap_frame *f)
{
    if (!armed || trap_resume)
        return 0;
    progress->faults++;
    if (f->vector == 1 || f->vector == 7) {
        hyp_set_debugreg(7, 0);
        hyp_fpu_taskswitch(0);
        return 1;
    }
    trap_ctx_restore(&recover, 1);
}

/* A store of random width and kind into one of our page-table entries we may rewrite. */
static void wrpt_store(uint64_t *s)
{
    volatile uint64_t *e = wrpt_targets[below(s, nr_wrpt)];
    uint64_t v = below(s, 2) ? pick_pte(s) : (*e ^ (1UL << below(s, 64)));

    progress->wrpt++;
    switch (below(s, 4)) {
    case 0:
        __asm__ volatile(TRAP_PROBE_ASM("movq %1, (%0)") :: "r"(e), "r"(v) : "r11", "memory");
        break;
    case 1:
        __asm__ volatile(TRAP_PROBE_ASM("movl %k1, (%0)") :: "r"(e), "r"(v) : "r11", "memory");
        break;
    case 2:
        __asm__ volatile(TRAP_PROBE_ASM("xchgq %1, (%0)") : "+r"(e), "+r"(v) :: "r11", "memory");
        break;
    default:
        __asm__ volatile(TRAP_PROBE_ASM("lock orq %1, (%0)") :: "r"(e), "r"(v) : "r11", "memory");
        break;
    }
    trap_resume = 0;
}

/* Prints call c (and a multicall's entries): how a run's call is replayed by hand (show=). */
static void show_call(const struct fz_call *c)
{
    guest_printf("fuzz call: %lu(%lx, %lx, %lx, %lx, %lx)\n", (unsigned long)c->nr,
                 (unsigned long)c->a[0], (unsigned long)c->a[1], (unsigned long)c->a[2],
                 (unsigned long)c->a[3], (unsigned long)c->a[4]);
    if (c->nr != __HYPERVISOR_multicall || (c->a[0] & ~4095UL) != (uint64_t)scratch[6])
        return;
    const multicall_entry_t *m = (const multicall_entry_t *)scratch[6];
    for (unsigned int k = 0; k < c->a[1] && k < 8; k++)
        guest_printf("  entry %u: %lu(%lx, %lx, %lx, %lx, %lx)\n", k, (unsigned long)m[k].op,
                     (unsigned long)m[k].args[0], (unsigned long)m[k].args[1],
                     (unsigned long)m[k].args[2], (unsigned long)m[k].args[3],
                     (unsigned long)m[k].args[4]);
}

/* Call i of the seed: a store, an mmu_update batch, a multicall, or any hypercall. */
static void one_call(uint64_t seed, uint64_t i)
{
    uint64_t s = seed * 0x2545f4914f6cdd1dULL ^ (i + 1) * 0x9e3779b97f4a7c15ULL;
    struct fz_call c;
    unsigned int kind = (unsigned int)below(&s, 16);

    progress->wait_until = progress->wait_set_at = 0;
    fill_scratch(&s, below(&s, 2));
    if (kind == 0) {
        progress->cur_nr = WRPT_NR;
        wrpt_store(&s);
        return;
    }
    gen_call(&s, &c, 0);
    if (kind == 1) {
        c.nr = __HYPERVISOR_mmu_update;
        gen_mmu_update(&s, &c);
    } else if (kind == 2) {
        c.nr = __HYPERVISOR_multicall;
        gen_multicall(&s, &c, 0);
    }
    progress->cur_nr = c.nr;
    memcpy(progress->cur_args, c.a, sizeof(c.a));
    if (i == show)
        show_call(&c);
    hypercall5(c.nr, c.a[0], c.a[1], c.a[2], c.a[3], c.a[4]);
    if (needs_repair(c.nr))
        repair();
}

/* Sets up the scratch pages, the sacrificial tree and the pools. */
static void child_setup(void)
{
    uint64_t *l4;

    pt_pool_init(pool, 4);
    core_l4_mfn = pt_cur_l4_mfn;
    own_id = 1;         /* the child's usual id (the first free one) */
    other_mfn[0] = (uint64_t)evt_cmdline_num("o1", 0);
    other_mfn[1] = (uint64_t)evt_cmdline_num("o2", 0);
    max_ram_mfn = (uint64_t)hyp_memory_op(XENMEM_maximum_ram_page, NULL);
    for (unsigned int i = 0; i < NR_SCRATCH; i++) {
        scratch[i][0] = 1;      /* touched: mapped */
        scratch_pte_va[i] = pt_entry((unsigned long)scratch[i], 1);
        scratch_pte[i] = *scratch_pte_va[i];
        add_pte(scratch_pte_va[i], pt_entry_ma((unsigned long)scratch[i], 1));
        add_frame(pt_mfn_of(scratch[i]));
    }
    for (unsigned int i = 0; i < 16; i++)
        sac_l1[0][i] = pt_pte(scratch[i % NR_SCRATCH], PTE_DATA_RO);
    sac_l2[0] = pt_pte(sac_l1[0], PTE_TABLE);
    sac_l2[1] = pt_pte(sac_l1[1], PTE_TABLE);
    sac_l3[0] = pt_pte(sac_l2, PTE_TABLE);
    pt_map_ro(sac_l1[0]);
    pt_map_ro(sac_l1[1]);
    pt_map_ro(sac_l2);
    pt_map_ro(sac_l3);
    pt_pin(3, sac_l3);
    l4 = pt_va_of_mfn(core_l4_mfn);
    pt_mmu1(pt_ma_of(&l4[SAC_SLOT]), pt_pte(sac_l3, PTE_TABLE));
    for (unsigned int i = 0; i < 8; i++) {
        add_pte(&sac_l1[0][i * 64 + 3], pt_ma_of(&sac_l1[0][i * 64 + 3]));
        add_pte(&sac_l1[1][i * 64], pt_ma_of(&sac_l1[1][i * 64]));
    }
    add_pte(&sac_l2[0], pt_ma_of(&sac_l2[0]));
    add_pte(&sac_l2[5], pt_ma_of(&sac_l2[5]));
    add_pte(&sac_l3[0], pt_ma_of(&sac_l3[0]));
    add_pte(&sac_l3[9], pt_ma_of(&sac_l3[9]));
    for (unsigned int slot = 2, n = 0; slot < 256 && n < 4; slot++)
        if (!(l4[slot] & PTE_P)) {        /* empty core L4 slots are not core */
            add_pte(&l4[slot], pt_ma_of(&l4[slot]));
            n++;
        }
    add_frame(pt_mfn_of(sac_l3));
    add_frame(pt_mfn_of(sac_l2));
    add_frame(pt_mfn_of(sac_l1[0]));
    add_frame(pt_mfn_of(sac_l1[1]));
    add_frame(core_l4_mfn);
    add_frame((*pt_entry((unsigned long)scratch[0], 2) & PTE_MFN) >> 12);   /* core L1 */
    add_frame((*pt_entry((unsigned long)scratch[0], 3) & PTE_MFN) >> 12);   /* core L2 */
    add_frame((*pt_entry((unsigned long)scratch[0], 4) & PTE_MFN) >> 12);   /* core L3 */
    add_frame(guest_start_info->shared_info >> 12);
    add_frame(other_mfn[0]);
    add_frame(other_mfn[1]);
}

/*
 * wreck=N (the regression kernel fuzz_wreck): at call N the child does to
 * its record what seed 4 from call 993 939 once did by its own calls (a
 * multicall whose count ran its entries past the scratch pages into its own
 * .bss and stack, the hypervisor writing results there): the record says it
 * is at its first call with none done, and it dies with a shutdown code of
 * poweroff. A parent that resumed at the recorded call replayed the same
 * calls in every new child, dying again each time, until it gave up.
 */
static void wreck_record(uint64_t start)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };

    progress->cur = start;
    progress->done = 0;
    hyp_sched_op(SCHEDOP_shutdown_code, &sd);
    guest_shutdown(SHUTDOWN_crash);
}

/* The child: calls [start, end) of seed, progress in the store page, then poweroff. */
static void child(void)
{
    uint64_t seed = (uint64_t)evt_cmdline_num("seed", 1);
    uint64_t start = (uint64_t)evt_cmdline_num("start", 0);
    uint64_t end = (uint64_t)evt_cmdline_num("end", 1000);
    uint64_t wreck = (uint64_t)evt_cmdline_num("wreck", -1);
    volatile uint64_t i;

    struct gnttab_map_grant_ref map = { .host_addr = (uint64_t)prog_win, .flags = GNTMAP_host_map,
                                        .ref = (grant_ref_t)evt_cmdline_num("gref", PROG_REF),
                                        .dom = 0 };

    if (hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1) || map.status != GNTST_okay)
        guest_shutdown(SHUTDOWN_crash);     /* no progress page: the parent skips a call */
    progress = (struct fz_progress *)prog_win;
    *progress = (struct fz_progress){ .magic = FZ_MAGIC, .cur = start };
    evt_init();
    show = (uint64_t)evt_cmdline_num("show", -1);
    trap_install(-1);
    trap_kernel_hook = fuzz_trap;
    child_setup();
    guest_printf("fuzz child: seed %lu calls %lu..%lu\n", (unsigned long)seed,
                 (unsigned long)start, (unsigned long)end);
    volatile unsigned int fault_run = 0;
    armed = 1;
    for (i = start; i < end; i++) {
        progress->cur = i;
        if (i == wreck)
            wreck_record(start);
        if (trap_ctx_save(&recover) == 0) {
            if (restore_scratch())
                guest_shutdown(SHUTDOWN_crash);
            one_call(seed, i);
            fault_run = 0;
        } else if (++fault_run > MAX_FAULT_RUN) {
            guest_shutdown(SHUTDOWN_crash);
        } else {
            repair();
        }
        progress->done++;
    }
    armed = 0;
    if (i == end)           /* not a loop index our own calls overwrote */
        progress->finished = FZ_MAGIC ^ end;
    guest_shutdown(SHUTDOWN_poweroff);
}

/* ---- the parent ------------------------------------------------------------------ */

#define NR_FUZZERS 2                     /* pair=1: two at once */
#define VICTIM_REF 5                     /* the victim's grant of its report page */
#define VICTIM_PAGES 64                  /* the victim's checksummed memory */
#define VICTIM_LATE_MAX_NS (1000 * MS)   /* the timer latency the victim accepts (TCG: 0.1-0.55 s seen) */
#define VICTIM_MAGIC 0x766963746d667a7aUL

static char win[NR_FUZZERS][4096] __attribute__((aligned(4096)));   /* the progress pages */
static struct grant_entry_v1 gtable[512] __attribute__((aligned(4096)));
static char cmdline[256];
static uint64_t own_data[512] __attribute__((aligned(4096)));

/*
 * One fuzzer: calls [first, calls) of seed, run as children one segment at
 * a time, its progress page win[k] granted as PROG_REF + k. id is its child
 * while a segment runs (0: none).
 */
struct fuzzer {
    uint64_t seed, first, calls, at;    /* the next segment starts at `at` */
    uint64_t len, end;                  /* the next segment's length; the running one's end */
    uint64_t t0, done, faults, wrpt;
    unsigned int segs, deaths, stalls, k;
    unsigned int wait_stalls[2], missed; /* stalls in block [0] / poll [1]; missed wake-ups */
    domid_t id;
    uint64_t free0, last_cur, last_move;
    int failed;
};

/* Formats "fuzz_hypercalls role=1 ..." for a segment of f into cmdline. */
static void segment_cmdline(const struct fuzzer *f)
{
    char *p = cmdline;
    const char *keys[] = { "fuzz_hypercalls role=1 seed=", " start=", " end=", " o1=", " o2=",
                           " show=", " gref=", " wreck=" };
    uint64_t vals[] = { f->seed, f->at, f->end, pt_cur_l4_mfn, pt_mfn_of(own_data),
                        (uint64_t)evt_cmdline_num("show", 0x7fffffff), PROG_REF + f->k,
                        (uint64_t)evt_cmdline_num("wreck", 0x7fffffff) };
    for (unsigned int k = 0; k < 8; k++) {
        for (const char *q = keys[k]; *q; q++)
            *p++ = *q;
        char digits[24];
        int n = 0;
        uint64_t v = vals[k];
        do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
        while (n)
            *p++ = digits[--n];
    }
    *p = 0;
}

/* Creates f's child for the segment starting at f->at and lets it run. 0, or -1 (a check failed). */
static int start_segment(struct fuzzer *f)
{
    struct xen_domctl op;

    f->free0 = free_pages();
    f->end = f->at + (f->len < f->calls - f->at ? f->len : f->calls - f->at);
    segment_cmdline(f);
    create_child_op(&op, 0, CHILD_KB, cmdline);
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return -1;
    f->id = op.domain;
    memset(win[f->k], 0, sizeof(win[f->k]));
    gnt_permit(gtable, PROG_REF + f->k, f->id, win[f->k]);
    f->last_cur = ~0ULL;
    f->last_move = evt_now();
    f->segs++;
    return EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, f->id, &op), 0) ? 0 : -1;
}

/*
 * Whether f's child is done: its shutdown reason (>= 0), -1 if it stalled
 * (no progress for STALL_NS), -2 while it makes progress, -3 if a check
 * failed.
 */
static int segment_state(struct fuzzer *f)
{
    struct xen_domctl op;
    volatile struct fz_progress *pg = (volatile struct fz_progress *)win[f->k];

    if (dctl(XEN_DOMCTL_getdomaininfo, f->id, &op) || op.domain != f->id)
        return EXPECT(0), -3;
    if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown)
        return (int)((op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) &
                     XEN_DOMINF_shutdownmask);
    if (pg->magic == FZ_MAGIC && pg->cur != f->last_cur) {
        f->last_cur = pg->cur;
        f->last_move = evt_now();
    } else if (evt_now() - f->last_move > STALL_NS) {
        return -1;
    }
    return -2;
}

/*
 * probe=1: creates a child that never runs and destroys it, so that the
 * hypervisor's audit (audit=on-death) runs while the fuzz child that just
 * ended still exists as it left itself (its own free comes after its
 * destroy, when its frames are gone). 0, or -1 (a check failed).
 */
static int audit_probe(void)
{
    struct xen_domctl op;

    create_child_op(&op, 0, CHILD_KB, "fuzz_hypercalls role=3");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return -1;
    return EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, op.domain, &op), 0) ? 0 : -1;
}

/*
 * A child that stalled in its top-level SCHEDOP_poll or SCHEDOP_block:
 * prints how far past the deadline it set (on its clock, the system time
 * ours reads too) it still waits, and how far its clock was from ours when
 * it set it. A poll has that deadline as its timeout: blocked in it 0.5 s
 * past the deadline, with a clock that agreed with ours, is a wake-up the
 * hypervisor missed (f->missed, a failure). A block wakes only for an event:
 * its timer VIRQ may be closed or masked by its own calls (self-inflicted).
 */
static void stall_wait_report(struct fuzzer *f, volatile struct fz_progress *pg, int blocked)
{
    int64_t now = (int64_t)evt_now(), set = (int64_t)pg->wait_set_at;
    int64_t past = now - (int64_t)pg->wait_until, skew = set - (int64_t)f->last_move;
    int poll = pg->cur_args[0] == SCHEDOP_poll;
    int missed = poll && blocked == 1 && past >= (int64_t)(STALL_NS / 2) &&
                 skew > -(int64_t)(STALL_NS / 2) && skew < (int64_t)(STALL_NS / 2);

    guest_printf("     seed %lu stalled in %s: its deadline %ld ms behind our clock, its clock "
                 "%ld ms from ours at the call%s\n", (unsigned long)f->seed, poll ? "poll" : "block",
                 (long)(past / (int64_t)MS), (long)(skew / (int64_t)MS),
                 missed ? ": a missed wake-up" : "");
    f->wait_stalls[poll]++;
    f->missed += missed;
}

/*
 * Ends f's segment (child shut down with `reason`, or -1: stalled): counts
 * it, destroys the child, checks its grant of the progress page is let go
 * and, if `alone` (no other child was created meanwhile), that the free
 * pages are those before the create. 0, or -1 (a check failed).
 */
static int end_segment(struct fuzzer *f, int reason, int alone)
{
    struct xen_domctl op;
    volatile struct fz_progress *pg = (volatile struct fz_progress *)win[f->k];
    uint64_t start = f->at, end = f->end;

    /* A stalled child: blocked (waiting for a wake-up) or running (a livelock, a long call)? */
    int blocked = -1;
    if (reason < 0 && dctl(XEN_DOMCTL_getvcpuinfo, f->id, &op) == 0)
        blocked = op.u.getvcpuinfo.blocked;
    int ran = pg->magic == FZ_MAGIC;
    f->done += ran ? pg->done : 0;
    f->faults += ran ? pg->faults : 0;
    f->wrpt += ran ? pg->wrpt : 0;
    /* A child that wrecked its own memory may have written nonsense: then go by `done`. */
    uint64_t cur = pg->cur >= start && pg->cur < end ? pg->cur
                   : start + (pg->done < end - start ? pg->done : 0);
    int finished = reason == SHUTDOWN_poweroff && ran && pg->finished == (FZ_MAGIC ^ end);
    uint64_t next = finished ? end : ran ? cur + 1 : start + 1;
    if (!finished)
        guest_printf("     seed %lu segment end at call %lu, %lu(%lx, %lx, %lx, %lx, %lx): %s %d\n",
                     (unsigned long)f->seed, (unsigned long)cur, (unsigned long)pg->cur_nr,
                     (unsigned long)pg->cur_args[0], (unsigned long)pg->cur_args[1],
                     (unsigned long)pg->cur_args[2], (unsigned long)pg->cur_args[3],
                     (unsigned long)pg->cur_args[4],
                     reason >= 0 ? "shutdown" : blocked == 1 ? "stalled, blocked"
                                  : blocked == 0 ? "stalled, running" : "stalled", reason);
    if (reason < 0 && pg->wait_until && (pg->cur_nr == __HYPERVISOR_sched_op ||
                                         pg->cur_nr == __HYPERVISOR_sched_op_compat))
        stall_wait_report(f, pg, blocked);
    f->stalls += reason < 0;
    f->deaths += reason >= 0 && !finished;
    f->at = next;
    /*
     * A death the record may misplace (a child that wrecked its progress
     * pointer or page) would recur in the next segment, a replay of the same
     * calls: halving the length after each death closes in on the call that
     * kills, so every segment moves on by one call at least.
     */
    f->len = !finished ? (end - start + 1) / 2
             : f->len < (f->calls - f->first) / 2 ? f->len * 2 : f->calls - f->first;
    if (evt_cmdline_num("probe", 0) && audit_probe())
        return -1;
    if (!EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, f->id, &op), 0))
        return -1;
    f->id = 0;
    /* Its mapping went with it: the entry is neither read nor written any more. */
    if (!EXPECT_EQ(__atomic_exchange_n(&gtable[PROG_REF + f->k].flags, 0, __ATOMIC_SEQ_CST),
                   GTF_permit_access))
        return -1;
    uint64_t free1 = free_pages();
    if (alone && free1 != f->free0) {
        guest_printf("     free pages %lu before the create, %lu after the destroy\n",
                     (unsigned long)f->free0, (unsigned long)free1);
        return EXPECT_EQ(free1, f->free0), -1;
    }
    return 0;
}

/* Prints f's figures (its seed is done); two checks (it completed calls, no wake-up was missed). */
static void fuzzer_report(const struct fuzzer *f)
{
    uint64_t ms = (evt_now() - f->t0) / MS + 1;
    guest_printf("fuzz: seed %lu: %lu calls (%lu completed, %lu page-table stores) in %lu ms = "
                 "%lu calls/s; %lu own faults caught, %u segments, %u self-inflicted deaths, "
                 "%u stalls (%u in block, %u in poll, %u missed wake-ups)\n", (unsigned long)f->seed,
                 (unsigned long)f->calls, (unsigned long)f->done, (unsigned long)f->wrpt,
                 (unsigned long)ms, (unsigned long)((f->calls - f->first) * 1000 / ms),
                 (unsigned long)f->faults, f->segs, f->deaths, f->stalls, f->wait_stalls[0],
                 f->wait_stalls[1], f->missed);
    EXPECT(f->done > 0);
    EXPECT_EQ(f->missed, 0);
}

/* One step of fuzzer f: starts its next segment or looks at the running one. 1 while it has work. */
static int fuzzer_step(struct fuzzer *f, unsigned int n)
{
    if (f->failed)
        return 0;
    if (!f->id) {
        if (f->at >= f->calls)
            return 0;
        if (f->segs >= MAX_SEGMENTS(f->calls - f->first) || start_segment(f)) {
            EXPECT(0);
            guest_printf("     seed %lu stopped at call %lu\n", (unsigned long)f->seed,
                         (unsigned long)f->at);
            f->failed = 1;
            return 0;
        }
        return 1;
    }
    int st = segment_state(f);
    if (st == -2)
        return 1;
    if (st == -3 || end_segment(f, st, n == 1)) {
        f->failed = 1;
        return 0;
    }
    if (f->at >= f->calls)
        fuzzer_report(f);
    return 1;
}

/*
 * Fuzzes calls [first, calls) of n seeds from `seed` at once (each its own
 * child), until each is done or failed. With n > 1 the free pages are
 * checked once all are done (each child's create and destroy overlap the
 * other's).
 */
static void fuzz_seeds(long dom_exc, uint64_t seed, unsigned int n, uint64_t first, uint64_t calls)
{
    struct fuzzer fz[NR_FUZZERS];
    uint64_t free0 = free_pages();

    for (unsigned int k = 0; k < n; k++) {
        fz[k] = (struct fuzzer){ .seed = seed + k, .first = first, .calls = calls, .at = first,
                                 .len = calls - first, .t0 = evt_now(), .k = k };
        guest_printf("fuzz: seed %lu, %lu calls\n", (unsigned long)(seed + k),
                     (unsigned long)calls);
    }
    for (;;) {
        int busy = 0;
        for (unsigned int k = 0; k < n; k++)
            busy |= fuzzer_step(&fz[k], n);
        if (!busy)
            break;
        evt_wait((evtchn_port_t)dom_exc, evt_count[dom_exc] + 1, 50 * MS);
    }
    if (n > 1)
        EXPECT_EQ(free_pages(), free0);
}

/* ---- the victim (pair=1: a boot-time domU) ----------------------------------------- */

/* The victim's report, in a page it grants dom0 (ref VICTIM_REF); dom0 sets stop. */
struct victim_report {
    volatile uint64_t magic, stop, rounds, bad_sums, max_late_ns, total_late_ns;
    volatile uint64_t late_10ms, late_100ms;    /* rounds whose timer was that late or more */
};

static uint64_t victim_mem[VICTIM_PAGES][512] __attribute__((aligned(4096)));
static struct victim_report vreport __attribute__((aligned(4096)));

/* The victim's pages hold splitmix64(i) at word i: 0 if they still do, else the bad words. */
static uint64_t victim_check(int fill)
{
    uint64_t s = 42, bad = 0;
    for (unsigned int p = 0; p < VICTIM_PAGES; p++)
        for (unsigned int i = 0; i < 512; i++) {
            uint64_t v = rnd(&s);
            if (fill)
                victim_mem[p][i] = v;
            else
                bad += victim_mem[p][i] != v;
        }
    return bad;
}

/*
 * role=2: fills its memory, grants dom0 its report page, then until dom0
 * says stop: checks the memory and sleeps 1 ms on its single-shot timer,
 * measuring how late the timer fires. Checks: no word changed, every
 * timer within VICTIM_LATE_MAX_NS.
 */
static void victim(void)
{
    long tport = evt_setup_timer("victim");
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];

    if (tport <= 0)
        return;
    pt_pool_init(pool[1], 3);
    TEST("victim: memory and timers unchanged by the fuzzers");
    victim_check(1);
    gnt_setup_expect(table);
    vreport.magic = VICTIM_MAGIC;
    gnt_permit(table, VICTIM_REF, 0, &vreport);
    uint64_t end = evt_now() + 7200000 * MS;
    while (!vreport.stop && evt_now() < end) {
        vreport.bad_sums += victim_check(0) != 0;
        uint64_t deadline = evt_now() + 1 * MS;
        evt_sleep_until(tport, deadline);
        uint64_t late = evt_now() - deadline;
        vreport.total_late_ns += late;
        vreport.late_10ms += late >= 10 * MS;
        vreport.late_100ms += late >= 100 * MS;
        if (late > vreport.max_late_ns)
            vreport.max_late_ns = late;
        vreport.rounds++;
    }
    guest_printf("victim: %lu rounds, %lu bad checksums, timer late by %lu us at most, "
                 "%lu us on average, %lu rounds >= 10 ms late, %lu >= 100 ms\n",
                 (unsigned long)vreport.rounds, (unsigned long)vreport.bad_sums,
                 (unsigned long)(vreport.max_late_ns / 1000),
                 (unsigned long)(vreport.total_late_ns / 1000 / (vreport.rounds + 1)),
                 (unsigned long)vreport.late_10ms, (unsigned long)vreport.late_100ms);
    EXPECT(vreport.stop);
    EXPECT(vreport.rounds > 0);
    EXPECT_EQ(vreport.bad_sums, 0);
    EXPECT(vreport.max_late_ns < VICTIM_LATE_MAX_NS);
}

/* dom0's side: maps the victim's report page (domain `id`) at pool[2]; NULL if it cannot. */
static struct victim_report *victim_map(domid_t id)
{
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[2],
                                        .flags = GNTMAP_host_map, .ref = VICTIM_REF, .dom = id };
    if (!EXPECT_EQ(gnt_map_retry(&map, evt_now() + 20000 * MS), GNTST_okay))
        return NULL;
    struct victim_report *r = (struct victim_report *)pool[2];
    return EXPECT_EQ(r->magic, VICTIM_MAGIC) ? r : NULL;
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1)
        child();
    if (evt_cmdline_num("role", 0) == 2)
        return victim();
    if (evt_init() != 0)
        return (void)EXPECT(0);
    long dom_exc = create_watch_children();
    gnt_setup_expect(gtable);
    uint64_t calls = (uint64_t)evt_cmdline_num("calls", 100000);
    uint64_t seed = (uint64_t)evt_cmdline_num("seed", 1);
    uint64_t nseeds = (uint64_t)evt_cmdline_num("seeds", 1);
    uint64_t first = (uint64_t)evt_cmdline_num("first", 0);
    long victim_id = evt_cmdline_num("victim", -1);
    own_data[0] = 0x5a5a;

    if (evt_cmdline_num("pair", 0)) {
        TEST("fuzz: two fuzzers at once beside a victim domain");
        struct victim_report *v = victim_id >= 0 ? victim_map((domid_t)victim_id) : NULL;
        if (victim_id >= 0 && !v)
            return;
        for (uint64_t k = 0; k < nseeds; k += NR_FUZZERS)
            fuzz_seeds(dom_exc, seed + k, NR_FUZZERS, first, calls);
        if (v) {
            guest_printf("     victim: %lu rounds so far, %lu bad checksums, %lu us latest timer\n",
                         (unsigned long)v->rounds, (unsigned long)v->bad_sums,
                         (unsigned long)(v->max_late_ns / 1000));
            EXPECT(v->rounds > 0);
            v->stop = 1;
        }
    } else {
        TEST("fuzz: unprivileged children issuing random hypercalls");
        for (uint64_t k = 0; k < nseeds; k++)
            fuzz_seeds(dom_exc, seed + k, 1, first, calls);
    }
    EXPECT_EQ(own_data[0], 0x5a5a);
}
