/*
 * Local descriptor tables for PV guests, as Xen does them: MMUEXT_SET_LDT
 * only records the LDT's guest address and size; the CPU's LDT descriptor
 * points at a hypervisor window (LDT_VIRT_START) that starts unmapped. The
 * first time the CPU touches an LDT page (loading an LDT selector), the
 * resulting fault is resolved here: the guest page behind it is validated as
 * a descriptor page (which needs it to have no writable mapping) and mapped
 * into the window; if that fails, the guest gets the page fault at its own
 * address. Switching vCPUs unmaps the window and drops the references, so a
 * window only ever shows the current vCPU's LDT. Every CPU has its own
 * window, 2 MiB apart (ldt_window), touched only by that CPU.
 */
#include "pvkit/cpu.h"
#include "pvkit/guest_access.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/traps.h"
#include "pvkit/x86.h"

static uint64_t *ldt_l1[MAX_CPUS]; /* each window's page-table entries (LDT_PAGES used) */

void ldt_window_init(unsigned int cpu, uint64_t *l1)
{
    ldt_l1[cpu] = l1;
}

/* This CPU's window. */
static uint64_t ldt_window(void)
{
    return LDT_VIRT_START + (uint64_t)this_cpu_id() * L2_PAGE_SIZE;
}

static void unmap_window(struct domain *d)
{
    uint64_t *l1 = ldt_l1[this_cpu_id()];
    for (unsigned int i = 0; i < LDT_PAGES; i++) {
        if (!(l1[i] & PTE_P))
            continue;
        put_page_and_type(d, (l1[i] & PTE_ADDR_MASK) >> PAGE_SHIFT);
        l1[i] = 0;
        invlpg(ldt_window() + i * PAGE_SIZE);
    }
}

static void load_ldt_register(const struct vcpu *v)
{
    if (!v->ldt_entries) {
        __asm__ volatile("lldt %w0" : : "r"(0));
        return;
    }
    uint64_t base = ldt_window(), limit = v->ldt_entries * 8 - 1;
    gdt_set_system_descriptor(HV_LDT_SEL, base, limit, 0x82 /* present LDT, DPL 0 */);
    __asm__ volatile("lldt %w0" : : "r"(HV_LDT_SEL));
}

int vcpu_set_ldt(struct vcpu *v, uint64_t base, uint64_t entries)
{
    if ((base & (PAGE_SIZE - 1)) || entries > LDT_MAX_ENTRIES ||
        (entries && !guest_range_ok(base, entries * 8)))
        return -XEN_EINVAL;
    unmap_window(v->domain);
    v->ldt_base = base;
    v->ldt_entries = (unsigned int)entries;
    load_ldt_register(v);
    return 0;
}

bool ldt_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2)
{
    uint64_t window = ldt_window();
    if (cr2 < window || cr2 >= window + LDT_PAGES * PAGE_SIZE)
        return false;
    unsigned int page = (unsigned int)((cr2 - window) >> PAGE_SHIFT);
    uint64_t guest_va = v->ldt_base + ((uint64_t)page << PAGE_SHIFT);
    uint64_t mfn = guest_frame_of(v, guest_va);

    if (mfn == ~0ull || get_page_and_type(v->domain, mfn, FRAME_TYPE_SEG_DESC)) {
        /* The guest sees a fault on its own LDT page, as under Xen. */
        v->cr2 = guest_va + (cr2 & (PAGE_SIZE - 1));
        inject_exception(v, regs, 14, true, regs->error_code & 3);
        return true;
    }
    ldt_l1[this_cpu_id()][page] = (mfn << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D |
                                  pte_nx_mask;
    return true;
}

void ldt_switch(struct vcpu *prev, struct vcpu *next)
{
    if (prev)
        unmap_window(prev->domain);
    load_ldt_register(next);
}
