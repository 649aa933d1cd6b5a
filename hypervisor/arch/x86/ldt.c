/*
 * Local descriptor tables for PV guests, as Xen does them: MMUEXT_SET_LDT
 * only records the LDT's guest address and size; the CPU's LDT descriptor
 * points at a hypervisor window (LDT_VIRT_START) that starts unmapped. The
 * first time the CPU touches an LDT page (loading an LDT selector), the
 * resulting fault is resolved here: the guest page behind it is validated as
 * a descriptor page (which needs it to have no writable mapping) and mapped
 * into the window; if that fails, the guest gets the page fault at its own
 * address. The hypervisor's own selector loads with guest values (the data
 * selectors of a vCPU being switched in, CS and SS of the IRET to the
 * guest) map the pages they need first (ldt_prefault_selector), so they never
 * fault on the window. Switching vCPUs unmaps the window and drops the
 * references, so a window only ever shows the current vCPU's LDT, and holds
 * at most one reference per page. Every CPU has its own window, 2 MiB apart
 * (ldt_window), touched only by that CPU.
 */
#include "pvkit/ldt.h"
#include "pvkit/guest_access.h"
#include "pvkit/guest_walk.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/traps.h"
#include "pvkit/x86.h"

/* Each CPU's LDT window's page-table entries (LDT_PAGES used); entry i is set as CPU i
 * comes up and then used only by CPU i. */
static uint64_t *ldt_l1[MAX_CPUS];

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

/*
 * Maps page `page` of v's LDT into this CPU's window: the guest page behind it
 * (found through v's kernel page tables, where a PV kernel keeps its LDTs,
 * whichever mode v is in) is validated and typed as a descriptor page. 0, or
 * -errno with nothing mapped and nothing taken; an already mapped page is
 * left as it is (its references are held once, however often it is asked).
 */
static int map_ldt_page(struct vcpu *v, unsigned int page)
{
    uint64_t *l1 = ldt_l1[this_cpu_id()];
    if (l1[page] & PTE_P)
        return 0;
    uint64_t mfn = guest_frame_of(v, v->ldt_base + ((uint64_t)page << PAGE_SHIFT));
    if (mfn == GUEST_NO_FRAME)
        return -XEN_EFAULT;
    int rc = get_page_and_type(v->domain, mfn, FRAME_TYPE_SEG_DESC);
    if (rc)
        return rc;
    l1[page] = (mfn << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | pte_nx_mask;
    return 0;
}

bool ldt_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2)
{
    uint64_t window = ldt_window();
    if (cr2 < window || cr2 >= window + LDT_PAGES * PAGE_SIZE)
        return false;
    /*
     * Only the CPU's own descriptor loads (supervisor accesses, whatever the
     * CPL) to a page not yet mapped are ours. The guest's explicit accesses
     * to the window fault like any access to the hypervisor's range, and are
     * the guest's page faults.
     */
    unsigned int page = (unsigned int)((cr2 - window) >> PAGE_SHIFT);
    if ((regs->error_code & (PF_USER | PF_RSVD)) || (ldt_l1[this_cpu_id()][page] & PTE_P))
        return false;
    if (map_ldt_page(v, page)) {
        /* The guest sees a fault on its own LDT page, as under Xen. */
        v->cr2 = v->ldt_base + (cr2 - window);
        inject_exception(v, regs, 14, true, regs->error_code & 3);
    }
    return true;
}

bool ldt_prefault_ldt_selector(struct vcpu *v, uint16_t sel)
{
    uint64_t offset = (uint64_t)(sel & ~7u);
    if (offset >= (uint64_t)v->ldt_entries * 8)
        return true; /* beyond the limit: nothing to map */
    return map_ldt_page(v, (unsigned int)(offset >> PAGE_SHIFT)) == 0;
}

void ldt_unload(struct domain *d)
{
    unmap_window(d);
    __asm__ volatile("lldt %w0" : : "r"(0));
}

void ldt_switch(struct vcpu *prev, struct vcpu *next)
{
    if (prev)
        unmap_window(prev->domain);
    load_ldt_register(next);
}
