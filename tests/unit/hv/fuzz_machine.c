/*
 * The hosted machine of the hypervisor fuzz targets (see fuzz_machine.h):
 * its memory, domain building and tear-down, the hypercall budget and
 * continuations, and the symbols of the hypervisor parts that are not
 * hosted. The not-hosted parts that a hosted domain can never reach (SVM,
 * nested paging, GDTs, the machine's exit) fail loudly if reached.
 *
 * Invariants: the machine's frames live at DIRECTMAP_BASE (the host build
 * sets it), so mfn_to_virt and frame_page agree as in the hypervisor; the
 * hypercall state (budget, continuation) is only valid inside machine_call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "fuzz_machine.h"
#include "pvkit/audit.h"
#include "pvkit/cpu.h"
#include "pvkit/grant.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/ldt.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/pagetype.h"
#include "pvkit/pv_cpu.h"
#include "pvkit/sched.h"
#include "pvkit/svm.h"
#include "pvkit/vcpu.h"

#define MAX_PIECES 100000   /* continuations of one call before it counts as a hang */
#define FINISH_ROUNDS 8     /* destroy rounds over all domains before a leak is declared */

struct frame_table frame_table;
uint64_t *idle_l4;
static struct frame storage[MACHINE_FRAMES];
static uint8_t arg_window[MACHINE_ARG_SIZE];
static uint64_t free_at_reset;

/* Per built domain: its tree (levels 1-4) and data frames. */
static struct {
    uint64_t table[5];
    uint64_t data[MACHINE_DATA_FRAMES];
} built[MACHINE_DOMAINS];

/* The hypercall piece being run (hypercall.c's contract). */
static bool in_call;
static uint64_t budget, tables_left;
static bool continued;
static uint64_t continued_args[5];

/* ---- the input ---- */

uint8_t input_u8(struct fuzz_input *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

uint16_t input_u16(struct fuzz_input *in)
{
    return (uint16_t)(input_u8(in) | input_u8(in) << 8);
}

uint32_t input_u32(struct fuzz_input *in)
{
    return input_u16(in) | (uint32_t)input_u16(in) << 16;
}

uint64_t input_u64(struct fuzz_input *in)
{
    return input_u32(in) | (uint64_t)input_u32(in) << 32;
}

unsigned int input_pick(struct fuzz_input *in, unsigned int n)
{
    return input_u8(in) % n;
}

/* ---- failing ---- */

void machine_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fuzz machine: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void machine_trace(const char *fmt, ...)
{
    va_list ap;

    if (!getenv("FUZZ_VERBOSE"))
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- what the hosted hypervisor files call ---- */

void *frame_page(uint64_t mfn)
{
    if (mfn >= MACHINE_FRAMES)
        machine_fail("frame_page(0x%lx): beyond the machine", (unsigned long)mfn);
    return mfn_to_virt(mfn);
}

int64_t alloc_zeroed_frame(uint32_t owner)
{
    int64_t mfn = frame_alloc(&frame_table, owner);
    if (mfn >= 0)
        memset(frame_page((uint64_t)mfn), 0, PAGE_SIZE);
    return mfn;
}

void m2p_set(uint64_t mfn, uint64_t pfn) { (void)mfn; (void)pfn; } /* no M2P table */
void install_hv_l4_slots(uint64_t *l4) { (void)l4; }               /* no hypervisor slots */
void flush_tlb_domain(struct domain *d) { d->tlb_epoch++; }          /* no TLBs */
void flush_tlb_all(void) {}
/* As hypercall.c: table work inside a call stops when the piece's table budget is spent. */
bool table_work_preempt(void)
{
    bool spent = in_call && tables_left == 0;

    if (in_call && !spent)
        tables_left--;
    return spent;
}

/* Mirrors mm/guest_access.c's range rule for the lower half; the upper half has nothing. */
bool guest_range_ok(uint64_t va, uint64_t n)
{
    return va + n >= va && va + n <= 0x800000000000ull;
}

/* The argument window [MACHINE_ARG_VA, +MACHINE_ARG_SIZE) is all the guest has mapped. */
static void *arg_at(uint64_t va, size_t n)
{
    if (va < MACHINE_ARG_VA || n > MACHINE_ARG_SIZE || va - MACHINE_ARG_VA > MACHINE_ARG_SIZE - n)
        return NULL;
    return arg_window + (va - MACHINE_ARG_VA);
}

int copy_from_guest(void *dst, uint64_t src_va, size_t n)
{
    void *src = arg_at(src_va, n);
    if (!src)
        return -XEN_EFAULT;
    memcpy(dst, src, n);
    return 0;
}

int copy_to_guest(uint64_t dst_va, const void *src, size_t n)
{
    void *dst = arg_at(dst_va, n);
    if (!dst)
        return -XEN_EFAULT;
    memcpy(dst, src, n);
    return 0;
}

uint64_t hypercall_claim(uint64_t want, uint64_t cost)
{
    uint64_t n = MIN(want, MAX(budget / cost, 1ull));
    budget -= MIN(n * cost, budget);
    return n;
}

long hypercall_continue(uint64_t nr, const uint64_t args[5])
{
    continued = true;
    memcpy(continued_args, args, sizeof(continued_args));
    return (long)nr;
}

/* No CPUs run the hosted vCPUs: scheduling requests have nothing to do. */
void vcpu_wake(struct vcpu *v) { (void)v; }
void vcpu_kick(struct vcpu *v) { (void)v; }
void vcpu_place(struct vcpu *v) { (void)v; }
void vcpu_force_reschedule(struct vcpu *v) { (void)v; }
void vcpu_refresh_runstate(struct vcpu *v) { (void)v; }

/* The fuzz targets make no mmuext_op call: the LDT is not hosted. */
int vcpu_set_ldt(struct vcpu *v, uint64_t base, uint64_t entries)
{
    (void)base;
    (void)entries;
    machine_fail("vcpu_set_ldt(v%u) is not hosted", v->id);
}

/* The hosted vCPUs never load a GDT: dropping theirs has nothing to drop. */
int vcpu_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries)
{
    for (unsigned int i = 0; i < FIRST_RESERVED_GDT_PAGE; i++)
        if (v->gdt_frames[i])
            machine_fail("d%u v%u has GDT frames", v->domain->id, v->id);
    if (frames || entries)
        machine_fail("vcpu_set_gdt with frames is not hosted");
    return 0;
}

/* Not hosted (PVH, the machine's exit and statistics): a hosted PV domain never gets here. */
void npt_destroy(struct domain *d) { machine_fail("npt_destroy(d%u)", d->id); }
int64_t npt_lookup(const struct domain *d, uint64_t gfn)
{
    machine_fail("npt_lookup(d%u, %lx)", d->id, (unsigned long)gfn);
    return -1;
}
void svm_vcpu_destroy(struct vcpu *v) { machine_fail("svm_vcpu_destroy(v%u)", v->id); }
void machine_exit(uint8_t code) { machine_fail("machine_exit(%u)", code); }
void schedule_print_stats(void) { machine_fail("schedule_print_stats"); }
void dump_regs(enum log_level lvl, const char *who, const struct cpu_regs *r)
{
    (void)lvl;
    (void)r;
    machine_fail("dump_regs(%s)", who);
}

/* Shows errors (the audit's mismatch lines); the rest only with FUZZ_VERBOSE set. */
void printk(enum log_level lvl, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (lvl == LOG_ERR || getenv("FUZZ_VERBOSE"))
        fputs(buf, stderr);
}

/* ---- domains ---- */

struct domain *machine_domain(domid_t id)
{
    return domain_find(id);
}

uint64_t machine_table(domid_t id, unsigned int level, unsigned int i)
{
    return level ? built[id].table[level] : built[id].data[i % MACHINE_DATA_FRAMES];
}

/* Allocates d's frames (shared_info, tables, data): 0 or -XEN_ENOMEM. */
static int alloc_frames(struct domain *d, uint64_t *shared)
{
    int64_t mfn;

    if ((mfn = alloc_zeroed_frame(d->id)) < 0)
        return -XEN_ENOMEM;
    *shared = (uint64_t)mfn;
    for (unsigned int l = 1; l <= 4; l++) {
        if ((mfn = alloc_zeroed_frame(d->id)) < 0)
            return -XEN_ENOMEM;
        built[d->id].table[l] = (uint64_t)mfn;
    }
    for (unsigned int i = 0; i < MACHINE_DATA_FRAMES; i++) {
        if ((mfn = alloc_zeroed_frame(d->id)) < 0)
            return -XEN_ENOMEM;
        built[d->id].data[i] = (uint64_t)mfn;
    }
    d->nr_pages = 1 + 4 + MACHINE_DATA_FRAMES;
    return 0;
}

/* Writes d's tree (data frames at pages 0..) and takes its pin and each vCPU's hold. */
static int make_tree(struct domain *d)
{
    const uint64_t *t = built[d->id].table, flags = PTE_P | PTE_RW | PTE_US;

    for (unsigned int i = 0; i < MACHINE_DATA_FRAMES; i++)
        ((uint64_t *)frame_page(t[1]))[i] = built[d->id].data[i] << PAGE_SHIFT | flags;
    for (unsigned int l = 2; l <= 4; l++)
        ((uint64_t *)frame_page(t[l]))[0] = t[l - 1] << PAGE_SHIFT | flags;
    int rc = get_page_and_type(d, t[4], FRAME_TYPE_L4);
    if (rc)
        return rc;
    frame_get(&frame_table, t[4])->flags |= FRAME_PINNED;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        if ((rc = get_page_and_type(d, t[4], FRAME_TYPE_L4)))
            return rc;
        d->vcpus[i].kernel_l4_mfn = t[4];
    }
    return 0;
}

int machine_build(domid_t id)
{
    uint64_t shared;
    struct domain *d = domain_alloc(id);

    if (!d)
        return -XEN_ENOSPC;
    d->privileged = id == 0;
    d->nr_vcpus = MACHINE_VCPUS;
    d->max_pages = 64;
    for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
        d->vcpus[i] = (struct vcpu){ .domain = d, .id = i, .state = VCPU_RUNNABLE };
    int rc = alloc_frames(d, &shared);
    if (!rc && !(rc = get_page_and_type(d, shared, FRAME_TYPE_WRITABLE))) {
        d->shared_info = frame_page(shared);
        d->shared_info_mfn = shared;
        for (unsigned int i = 0; i < MACHINE_VCPUS; i++)
            d->vcpus[i].vcpu_info = &d->shared_info->vcpu_info[i];
    }
    if (!rc)
        rc = make_tree(d);
    if (!rc)
        rc = grant_table_create(d);
    if (rc) {
        /* Nothing else refers to a domain being built: its frames go back as they are. */
        domain_free(d);
        return rc;
    }
    return 0;
}

void machine_reset(void)
{
    static bool mapped;

    if (!mapped) {
        void *want = (void *)(uintptr_t)DIRECTMAP_BASE;
        void *at = mmap(want, MACHINE_FRAMES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (at != want)
            machine_fail("cannot map the machine at %p", want);
        mapped = true;
    }
    frames_init(&frame_table, storage, MACHINE_FRAMES);
    for (uint64_t m = 0; m < MACHINE_RESERVED; m++)
        storage[m] = (struct frame){ .owner = OWNER_RESERVED, .next_free = FRAME_NO_NEXT };
    frames_add_free(&frame_table, MACHINE_RESERVED, MACHINE_FRAMES);
    pte_nx_mask = PTE_NX;
    free_at_reset = frame_table.nr_free;
    for (domid_t id = 0; id < MACHINE_DOMAINS; id++)
        if (machine_build(id))
            machine_fail("cannot build d%u", id);
    machine_audit();
}

void machine_finish(void)
{
    for (unsigned int round = 0; round < FINISH_ROUNDS; round++) {
        struct domain *d;
        for_each_domain(d, slot) {
            unsigned int steps = 0;
            while (domain_destroy_step(d) == -XEN_ERESTART)
                if (++steps > MAX_PIECES)
                    machine_fail("destroying d%u never ends", d->id);
            machine_audit();
        }
    }
    struct domain *d;
    for_each_domain(d, slot)
        machine_fail("d%u is still dying after %u destroy rounds", d->id, FINISH_ROUNDS);
    if (frame_table.nr_free != free_at_reset)
        machine_fail("%lu frames free after every domain went, %lu before",
                     (unsigned long)frame_table.nr_free, (unsigned long)free_at_reset);
}

struct vcpu *machine_caller(struct fuzz_input *in)
{
    struct domain *d = domain_find((domid_t)input_pick(in, MACHINE_DOMAINS));
    if (!d || domain_state(d) != DOMAIN_RUNNING)
        return NULL;
    return &d->vcpus[input_pick(in, MACHINE_VCPUS)];
}

domid_t machine_pick_domid(struct fuzz_input *in)
{
    static const domid_t ids[] = { MACHINE_DOMAINS, DOMID_SELF, DOMID_XEN, MAX_DOMAINS };
    unsigned int i = input_pick(in, 16);
    if (i < 12)
        return (domid_t)(i % MACHINE_DOMAINS);
    return i < 15 ? ids[i - 12] : input_u16(in);
}

void machine_op_domain(struct fuzz_input *in)
{
    domid_t id = (domid_t)(1 + input_pick(in, MACHINE_DOMAINS - 1));
    struct domain *d = domain_find(id);

    if (!d) {
        machine_trace("build d%u -> %d", id, machine_build(id));
        return;
    }
    unsigned int pieces = 1 + input_pick(in, 8);
    machine_trace("destroy d%u: %u pieces", id, pieces);
    while (pieces-- && domain_destroy_step(d) == -XEN_ERESTART) /* 0: gone, or dying for good */
        ;
}

/* ---- calls and checks ---- */

void *machine_arg(void)
{
    return arg_window;
}

long machine_call(struct vcpu *v, long (*handler)(struct vcpu *, const uint64_t[5]),
                  const uint64_t args[5], unsigned int pieces_budget, bool positive_ok)
{
    uint64_t a[5];

    memcpy(a, args, sizeof(a));
    for (unsigned int piece = 0; piece < MAX_PIECES; piece++) {
        budget = tables_left = MAX(pieces_budget, 1u);
        continued = false;
        in_call = true;
        long rc = handler(v, a);
        in_call = false;
        if (continued) {
            memcpy(a, continued_args, sizeof(a));
            continue;
        }
        if (rc < -4095 || (rc > 0 && !positive_ok))
            machine_fail("hypercall result %ld is neither 0 nor -errno", rc);
        return rc;
    }
    machine_fail("a hypercall was continued %u times", MAX_PIECES);
}

void machine_audit(void)
{
    unsigned int n = audit_run("fuzz");
    if (n)
        machine_fail("audit: %u mismatches", n);
}
