/*
 * The PV MMU hypercalls: mmu_update, mmuext_op, update_va_mapping, vm_assist.
 *
 * Each request names page-table entries by machine address and is checked by
 * the rules in mm/pagetype.c before it reaches a table. Batches stop at the
 * first failing element and report how many completed through the guest's
 * `done` pointer, so the guest knows exactly what took effect. TLB flushes
 * for other vCPUs (masks, _ALL) reach every CPU that has the domain loaded
 * (flush_tlb_domain); the _LOCAL ones touch this CPU only.
 */
#include "pvkit/guest_access.h"
#include "pvkit/guest_walk.h"
#include "pvkit/hypercall.h"
#include "pvkit/ldt.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/x86.h"
#include "public/pvkit.h"

#define MMU_CMD_MASK 3ull

/*
 * The domain whose frames a batch maps: DOMID_SELF, or (privileged callers
 * only) another domain. Naming oneself by number is refused, as Xen does.
 */
static struct domain *foreign_domain(struct vcpu *v, uint64_t domid)
{
    if (domid == DOMID_SELF)
        return v->domain;
    if (!v->domain->privileged || domid == v->domain->id)
        return NULL;
    return domain_find_built((domid_t)domid);
}

/*
 * Stores the completed count at `done` if the guest gave one. A failed store
 * is ignored, as Xen does: the updates took effect, and the result says
 * whether they succeeded, not whether the guest's pointer was writable.
 */
static void write_done(uint64_t pdone, uint64_t done)
{
    uint32_t n = (uint32_t)done;
    if (pdone)
        (void)copy_to_guest(pdone, &n, sizeof(n));
}

/*
 * foreigndom bits 16-31: the page tables' owner + 1 (0: the caller). pvkit
 * edits only the caller's own page tables: naming itself is as 0, a domain
 * that does not exist is -ESRCH (as Xen), another one -EPERM (Xen lets only
 * a domain with rights over it do so).
 */
static int check_pt_owner(const struct vcpu *v, uint64_t foreigndom)
{
    unsigned int pt_dom = (uint32_t)foreigndom >> 16;
    if (!pt_dom || pt_dom - 1 == v->domain->id)
        return 0;
    return domain_find((domid_t)(pt_dom - 1)) ? -XEN_EPERM : -XEN_ESRCH;
}

/*
 * True for the second and later pieces of a batch: the first piece alone
 * counts it in its histogram bucket (whether or not there is a `done`).
 */
static bool batch_continued(uint64_t count_arg)
{
    return ((uint32_t)count_arg & PVKIT_BATCH_PREEMPTED) != 0;
}

/*
 * A batch's count as the guest passed it: the number of elements left, and
 * (if a previous piece was preempted) what the earlier pieces completed.
 */
static void batch_start(uint64_t count_arg, uint64_t pdone, uint64_t *count, uint64_t *done_before)
{
    uint32_t earlier = 0;
    *count = (uint32_t)count_arg & ~PVKIT_BATCH_PREEMPTED;
    *done_before = 0;
    if (batch_continued(count_arg) && pdone && !copy_from_guest(&earlier, pdone, sizeof(earlier)))
        *done_before = earlier; /* unreadable: counted from 0, as Xen (the elements go on) */
}

/*
 * Ends a piece of a batch: re-issues the rest if work remains and nothing
 * failed. An element that ran out of table budget (-XEN_ERESTART) is not
 * done and is re-issued; tables still on d's release list keep the batch
 * going (a piece with no element left only releases them), so a batch
 * returns with every table it unhooked released.
 */
static long batch_end(struct domain *d, uint64_t nr, const uint64_t args[5], uint64_t elem_size,
                      uint64_t count, uint64_t done, uint64_t done_before, int rc)
{
    if (rc == -XEN_ERESTART)
        rc = 0;
    write_done(args[2], done_before + done);
    if (!rc && (done < count || d->release_head != FRAME_NO_NEXT)) {
        const uint64_t rest[5] = { args[0] + done * elem_size,
                                   (count - done) | PVKIT_BATCH_PREEMPTED, args[2], args[3] };
        return hypercall_continue(nr, rest);
    }
    return rc;
}

/* mmu_update on a frame that is not a page table: a plain store, if writable. */
static int write_plain(struct domain *d, uint64_t mfn, uint64_t offset, uint64_t val)
{
    int rc = get_page_and_type(d, mfn, FRAME_TYPE_WRITABLE);
    if (rc)
        return rc;
    *(uint64_t *)((uint8_t *)frame_page(mfn) + offset) = val;
    put_page_and_type(d, mfn);
    return 0;
}

static ALWAYS_INLINE int pt_update(struct domain *d, struct domain *pg_owner, uint64_t ptr,
                                   uint64_t val, bool preserve_ad)
{
    uint64_t mfn = ptr >> PAGE_SHIFT, offset = ptr & (PAGE_SIZE - 1) & ~7ull;
    struct frame *f = frame_get(&frame_table, mfn);

    if (!f || f->owner != d->id)
        return -XEN_EINVAL;
    unsigned int level = frame_type_level(f->type);
    if (!level || !f->type_count)
        return write_plain(d, mfn, offset, val);
    if (!frame_is_live_table(f, f->type))
        return -XEN_EINVAL; /* a table whose validation is still under way */
    int rc = level == 1 && !preserve_ad
             ? mod_l1_pte(d, pg_owner, mfn, (unsigned int)(offset / 8), val)
             : mod_pte(d, pg_owner, mfn, level, (unsigned int)(offset / 8), val, preserve_ad);
    if (!rc)
        d->mm_stats.pte_updates++;
    return rc;
}

static int machphys_update(struct domain *d, uint64_t ptr, uint64_t pfn)
{
    uint64_t mfn = ptr >> PAGE_SHIFT;
    struct frame *f = frame_get(&frame_table, mfn);
    if (!f || f->owner != d->id)
        return -XEN_EINVAL;
    m2p_set(mfn, pfn);
    return 0;
}

static int one_mmu_update(struct domain *d, struct domain *pg_owner, const struct mmu_update *req)
{
    switch (req->ptr & MMU_CMD_MASK) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_NO_TRANSLATE: /* a PV guest's addresses are untranslated anyway */
        return pt_update(d, pg_owner, req->ptr, req->val, false);
    case MMU_PT_UPDATE_PRESERVE_AD:
        return pt_update(d, pg_owner, req->ptr, req->val, true);
    case MMU_MACHPHYS_UPDATE:
        return machphys_update(d, req->ptr, req->val);
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * do_mmu_update for the request Linux sends outside lazy-MMU mode: one
 * element (count exactly 1, a first piece) on the caller's own frames, with
 * nothing on d's release list. The general path's steps for that case (its
 * histogram bucket, the budget, the copy, one_mmu_update, `done`, a
 * continuation if the update left tables to release), without its loop and
 * batch bookkeeping: every check is one_mmu_update's, as in the loop.
 */
static long mmu_update_single(struct domain *d, const uint64_t args[5])
{
    struct mmu_update req;

    d->mm_stats.mmu_update_batches[batch_bucket(1)]++;
    hypercall_claim(1, 1);
    int rc = copy_from_guest(&req, args[0], sizeof(req));
    if (!rc)
        rc = one_mmu_update(d, d, &req);
    if (rc || d->release_head != FRAME_NO_NEXT)
        return batch_end(d, __HYPERVISOR_mmu_update, args, sizeof(req), 1, rc ? 0 : 1, 0, rc);
    write_done(args[2], 1);
    return 0;
}

/* do_mmu_update's general case: any count, a continued batch, a foreign domain. */
static __attribute__((noinline)) long mmu_update_batch(struct vcpu *v, const uint64_t args[5])
{
    struct domain *d = v->domain, *pg_owner = foreign_domain(v, args[3] & 0xffff);
    uint64_t count, done_before, done = 0, limit;
    int rc;

    if (!pg_owner)
        return -XEN_ESRCH;
    if ((rc = check_pt_owner(v, args[3])))
        return rc;
    batch_start(args[1], args[2], &count, &done_before);
    if (count && !batch_continued(args[1]))
        d->mm_stats.mmu_update_batches[batch_bucket(count)]++;
    if (release_pending_tables(d))
        return batch_end(d, __HYPERVISOR_mmu_update, args, sizeof(struct mmu_update), count, 0,
                         done_before, 0);
    limit = hypercall_claim(count, 1);
    for (; done < limit; done++) {
        struct mmu_update req;
        if ((rc = copy_from_guest(&req, args[0] + done * sizeof(req), sizeof(req))))
            break;
        if ((rc = one_mmu_update(d, pg_owner, &req)))
            break;
    }
    return batch_end(d, __HYPERVISOR_mmu_update, args, sizeof(struct mmu_update), count, done,
                     done_before, rc);
}

long do_mmu_update(struct vcpu *v, const uint64_t args[5])
{
    if (args[1] == 1 && (uint32_t)args[3] == DOMID_SELF &&
        v->domain->release_head == FRAME_NO_NEXT)
        return mmu_update_single(v->domain, args);
    return mmu_update_batch(v, args);
}

/*
 * Reads a guest vCPU mask. Flushes for other vCPUs go to every CPU that has
 * the domain loaded (flush_tlb_domain), a superset of the mask's, so only
 * the mask's readability matters.
 */
static int read_vcpumask(uint64_t va)
{
    uint64_t mask;
    return copy_from_guest(&mask, va, sizeof(mask));
}

static int flush_by_flags(struct domain *d, uint64_t flags, uint64_t va)
{
    uint64_t mask_va = flags & ~(UVMF_FLUSHTYPE_MASK | UVMF_ALL);
    bool others = (flags & UVMF_ALL) || mask_va;
    if (!(flags & UVMF_ALL) && mask_va && read_vcpumask(mask_va))
        return -XEN_EFAULT;
    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_NONE:
        return 0;
    case UVMF_TLB_FLUSH:
        if (others)
            flush_tlb_domain(d);
        else
            flush_tlb_local();
        return 0;
    case UVMF_INVLPG:
        if (others)
            flush_tlb_domain(d);
        else
            invlpg(va);
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

long do_update_va_mapping(struct vcpu *v, const uint64_t args[5])
{
    uint64_t va = args[0], val = args[1], flags = args[2];
    uint64_t l1_mfn;
    unsigned int index;

    if (!guest_range_ok(va, 1) || (va >= M2P_VIRT_START && va < HYPERVISOR_VIRT_END) ||
        (flags & UVMF_FLUSHTYPE_MASK) > UVMF_INVLPG)
        return -XEN_EINVAL;
    int rc = guest_l1_entry_of(v, va, &l1_mfn, &index);
    if (!rc)
        rc = mod_pte(v->domain, v->domain, l1_mfn, 1, index, val, false);
    if (rc)
        return rc;
    v->domain->mm_stats.pte_updates++;
    return flush_by_flags(v->domain, flags, va);
}

/* --- mmuext_op ---------------------------------------------------------- */

static int pin_table(struct domain *d, uint64_t mfn, enum frame_type type)
{
    struct frame *f = frame_get(&frame_table, mfn);
    if (!f || f->owner != d->id)
        return -XEN_EINVAL;
    if (f->flags & FRAME_PINNED)
        return -XEN_EINVAL;
    int rc = get_page_and_type(d, mfn, type);
    if (!rc)
        f->flags |= FRAME_PINNED;
    return rc;
}

static int unpin_table(struct domain *d, uint64_t mfn)
{
    struct frame *f = frame_get(&frame_table, mfn);
    if (!f || f->owner != d->id || !(f->flags & FRAME_PINNED))
        return -XEN_EINVAL;
    f->flags &= (uint8_t)~FRAME_PINNED;
    put_page_and_type(d, mfn);
    return 0;
}

static int new_baseptr(struct vcpu *v, uint64_t mfn, bool user)
{
    uint64_t *slot = user ? &v->user_l4_mfn : &v->kernel_l4_mfn;

    if (user && mfn == 0) {
        if (*slot)
            put_page_and_type(v->domain, *slot);
        *slot = 0;
        return 0;
    }
    int rc = get_page_and_type(v->domain, mfn, FRAME_TYPE_L4);
    if (rc)
        return rc;
    if (*slot)
        put_page_and_type(v->domain, *slot);
    *slot = mfn;
    if (!user)
        write_cr3(mfn << PAGE_SHIFT);
    return 0;
}

static int copy_or_clear_page(struct domain *d, uint64_t dst, uint64_t src, bool copy)
{
    if (get_page_and_type(d, dst, FRAME_TYPE_WRITABLE))
        return -XEN_EINVAL; /* as Xen: the target must be an ordinary page */
    int rc;
    if (copy && (rc = get_page(d, src))) {
        put_page_and_type(d, dst);
        return rc;
    }
    if (copy) {
        memcpy(frame_page(dst), frame_page(src), PAGE_SIZE);
        put_page(src);
    } else {
        memset(frame_page(dst), 0, PAGE_SIZE);
    }
    put_page_and_type(d, dst);
    return 0;
}

static int one_mmuext_op(struct vcpu *v, const struct mmuext_op *op)
{
    struct domain *d = v->domain;
    uint64_t mfn = op->arg1.mfn;

    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE: return pin_table(d, mfn, FRAME_TYPE_L1);
    case MMUEXT_PIN_L2_TABLE: return pin_table(d, mfn, FRAME_TYPE_L2);
    case MMUEXT_PIN_L3_TABLE: return pin_table(d, mfn, FRAME_TYPE_L3);
    case MMUEXT_PIN_L4_TABLE: return pin_table(d, mfn, FRAME_TYPE_L4);
    case MMUEXT_UNPIN_TABLE: return unpin_table(d, mfn);
    case MMUEXT_NEW_BASEPTR: return new_baseptr(v, mfn, false);
    case MMUEXT_NEW_USER_BASEPTR: return new_baseptr(v, mfn, true);
    case MMUEXT_TLB_FLUSH_LOCAL:
        flush_tlb_local();
        return 0;
    case MMUEXT_TLB_FLUSH_ALL:
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
        if (read_vcpumask(GUEST_HANDLE_VA(op->arg2.vcpumask)))
            return -XEN_EINVAL;
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_INVLPG_MULTI:
        if (read_vcpumask(GUEST_HANDLE_VA(op->arg2.vcpumask)))
            return -XEN_EINVAL;
        __attribute__((fallthrough));
    case MMUEXT_INVLPG_ALL:
        if (!guest_range_ok(op->arg1.linear_addr, 1))
            return -XEN_EINVAL;
        flush_tlb_domain(d);
        return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (!guest_range_ok(op->arg1.linear_addr, 1))
            return -XEN_EINVAL;
        invlpg(op->arg1.linear_addr);
        return 0;
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL:
        if (!d->privileged)
            return -XEN_EPERM;
        __asm__ volatile("wbinvd" ::: "memory");
        return 0;
    case MMUEXT_SET_LDT:
        return vcpu_set_ldt(v, op->arg1.linear_addr, op->arg2.nr_ents);
    case MMUEXT_COPY_PAGE:
        return copy_or_clear_page(d, mfn, op->arg2.src_mfn, true);
    case MMUEXT_CLEAR_PAGE:
        return copy_or_clear_page(d, mfn, 0, false);
    default:
        return -XEN_ENOSYS;
    }
}

long do_mmuext_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t count, done_before, done = 0, limit;
    int rc;

    if ((args[3] & 0xffff) != DOMID_SELF && (args[3] & 0xffff) != v->domain->id)
        return -XEN_EPERM; /* foreign mmuext ops are not supported */
    batch_start(args[1], args[2], &count, &done_before);
    if (count && !batch_continued(args[1]))
        v->domain->mm_stats.mmuext_batches[batch_bucket(count)]++;
    if (release_pending_tables(v->domain))
        return batch_end(v->domain, __HYPERVISOR_mmuext_op, args, sizeof(struct mmuext_op),
                         count, 0, done_before, 0);
    limit = hypercall_claim(count, 1);
    for (; done < limit; done++) {
        struct mmuext_op op;
        if ((rc = copy_from_guest(&op, args[0] + done * sizeof(op), sizeof(op))))
            break;
        if ((rc = one_mmuext_op(v, &op)))
            break;
    }
    return batch_end(v->domain, __HYPERVISOR_mmuext_op, args, sizeof(struct mmuext_op), count,
                     done, done_before, rc);
}

/* vm_assist: the assists Linux may enable; the others are refused. */
#define VM_ASSIST_KNOWN ((1ull << VMASST_TYPE_4gb_segments) |              \
                         (1ull << VMASST_TYPE_4gb_segments_notify) |       \
                         (1ull << VMASST_TYPE_writable_pagetables) |       \
                         (1ull << VMASST_TYPE_pae_extended_cr3) |          \
                         (1ull << VMASST_TYPE_architectural_iopl) |        \
                         (1ull << VMASST_TYPE_runstate_update_flag) |      \
                         (1ull << VMASST_TYPE_m2p_strict))

long do_vm_assist(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], type = args[1];

    if (type >= 64 || !(VM_ASSIST_KNOWN & (1ull << type)))
        return -XEN_EINVAL;
    switch (cmd) {
    case VMASST_CMD_enable:
        v->domain->vm_assist |= 1ull << type;
        return 0;
    case VMASST_CMD_disable:
        v->domain->vm_assist &= ~(1ull << type);
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}
