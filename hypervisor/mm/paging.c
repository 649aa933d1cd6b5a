/*
 * Boot-time memory setup: frame table, direct map, M2P table (see pvkit/mm.h).
 *
 * The boot trampoline mapped the first 4 GiB; everything allocated here
 * before the switch to the final tables comes from below 4 GiB (the frame
 * table and M2P are carved from the lowest suitable RAM, and frame_alloc()
 * hands out ascending frames), so it is reachable through that boot map.
 * The final tables map all RAM in the direct map with global 2 MiB pages and
 * the M2P read-only for guests; the low identity map is gone afterwards, so
 * L4 slots 0-255 belong entirely to guests.
 */
#include "pvkit/mm.h"
#include "pvkit/ldt.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/x86.h"

struct frame_table frame_table;
uint64_t *idle_l4;

/* Set at boot; the M2P entries themselves change under the hypervisor lock. */
static uint64_t *m2p_table;     /* direct-map view of the M2P, writable */
static uint64_t m2p_entries;

extern char __image_start[], __image_end[];

#define MAX_RESERVED (BOOT_MAX_MODULES + 4)

struct reservations {
    size_t n;
    struct mem_range r[MAX_RESERVED];
};

static void reserve(struct reservations *res, uint64_t start, uint64_t end)
{
    if (res->n == MAX_RESERVED)
        panic("too many reserved memory ranges");
    res->r[res->n++] = (struct mem_range){ ALIGN_DOWN(start, PAGE_SIZE),
                                           ALIGN_UP(end, PAGE_SIZE) };
}

static bool overlaps_reserved(const struct reservations *res, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < res->n; i++)
        if (start < res->r[i].end && res->r[i].start < end)
            return true;
    return false;
}

/* Finds [start, start+size) in RAM below limit, aligned, clear of reservations. */
static uint64_t find_free(const struct boot_info *bi, const struct reservations *res,
                          uint64_t size, uint64_t align, uint64_t limit)
{
    for (size_t i = 0; i < bi->nr_ram; i++) {
        uint64_t start = ALIGN_UP(bi->ram[i].start, align);
        for (; start + size <= MIN(bi->ram[i].end, limit); start += align)
            if (!overlaps_reserved(res, start, start + size))
                return start;
    }
    panic("cannot find %lu KiB of free memory for the hypervisor's tables",
          (unsigned long)(size >> 10));
}

void *frame_page(uint64_t mfn)
{
    return mfn_to_virt(mfn);
}

uint64_t max_mfn(void)
{
    return frame_table.nr_frames;
}

int64_t alloc_zeroed_frame(uint32_t owner)
{
    int64_t mfn = frame_alloc(&frame_table, owner);
    if (mfn >= 0)
        memset(mfn_to_virt((uint64_t)mfn), 0, PAGE_SIZE);
    return mfn;
}

static uint64_t *alloc_table(void)
{
    int64_t mfn = alloc_zeroed_frame(OWNER_HV);
    if (mfn < 0)
        panic("out of memory building the hypervisor's page tables");
    return mfn_to_virt((uint64_t)mfn);
}

void m2p_set(uint64_t mfn, uint64_t pfn)
{
    if (mfn < m2p_entries)
        m2p_table[mfn] = pfn;
}

uint64_t m2p_get(uint64_t mfn)
{
    return mfn < m2p_entries ? m2p_table[mfn] : INVALID_M2P_ENTRY;
}

void install_hv_l4_slots(uint64_t *l4)
{
    for (unsigned int slot = HV_SLOT_FIRST; slot <= HV_SLOT_LAST; slot++)
        l4[slot] = idle_l4[slot];
}

/* Maps [base, base+size) at va with 2 MiB pages under l4, with leaf flags. */
static void map_2m_range(uint64_t *l4, uint64_t va, uint64_t base, uint64_t size,
                         uint64_t upper_flags, uint64_t leaf_flags)
{
    for (uint64_t off = 0; off < size; off += L2_PAGE_SIZE) {
        uint64_t v = va + off;
        uint64_t *l4e = &l4[L4_INDEX(v)];
        if (!(*l4e & PTE_P))
            *l4e = virt_to_phys(alloc_table()) | upper_flags;
        uint64_t *l3 = phys_to_virt(*l4e & PTE_ADDR_MASK);
        uint64_t *l3e = &l3[L3_INDEX(v)];
        if (!(*l3e & PTE_P))
            *l3e = virt_to_phys(alloc_table()) | upper_flags;
        uint64_t *l2 = phys_to_virt(*l3e & PTE_ADDR_MASK);
        l2[L2_INDEX(v)] = (base + off) | leaf_flags | PTE_PS;
    }
}

static void init_frame_table(const struct boot_info *bi, struct reservations *res,
                             uint64_t nr_frames)
{
    uint64_t ft_bytes = ALIGN_UP(nr_frames * sizeof(struct frame), PAGE_SIZE);
    uint64_t ft_phys = find_free(bi, res, ft_bytes, PAGE_SIZE, 1ull << 32);
    reserve(res, ft_phys, ft_phys + ft_bytes);

    m2p_entries = nr_frames;
    uint64_t m2p_bytes = ALIGN_UP(nr_frames * 8, L2_PAGE_SIZE);
    uint64_t m2p_phys = find_free(bi, res, m2p_bytes, L2_PAGE_SIZE, 1ull << 32);
    reserve(res, m2p_phys, m2p_phys + m2p_bytes);
    m2p_table = phys_to_virt(m2p_phys);
    memset(m2p_table, 0xff, m2p_bytes);

    frames_init(&frame_table, phys_to_virt(ft_phys), nr_frames);
    for (size_t i = 0; i < res->n; i++)
        frames_reserve(&frame_table, res->r[i].start >> PAGE_SHIFT,
                       res->r[i].end >> PAGE_SHIFT);
    /* Highest range first, so the lowest frames end up at the list's head. */
    for (size_t i = bi->nr_ram; i-- > 0;)
        frames_add_free(&frame_table, ALIGN_UP(bi->ram[i].start, PAGE_SIZE) >> PAGE_SHIFT,
                        bi->ram[i].end >> PAGE_SHIFT);

    idle_l4 = alloc_table();
    uint64_t top = ALIGN_UP(nr_frames << PAGE_SHIFT, L2_PAGE_SIZE);
    if (top > DIRECTMAP_SIZE)
        panic("more than 512 GiB of memory is not supported");
    map_2m_range(idle_l4, DIRECTMAP_BASE, 0, top, PTE_P | PTE_RW,
                 PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G);
    /* The LDT windows, one per CPU, 2 MiB apart: L1s the LDT code fills on demand. */
    uint64_t *l3 = alloc_table(), *l2 = alloc_table();
    idle_l4[L4_INDEX(LDT_VIRT_START)] = virt_to_phys(l3) | PTE_P | PTE_RW;
    l3[L3_INDEX(LDT_VIRT_START)] = virt_to_phys(l2) | PTE_P | PTE_RW;
    for (unsigned int cpu = 0; cpu < MAX_CPUS; cpu++) {
        uint64_t *l1 = alloc_table();
        l2[L2_INDEX(LDT_VIRT_START) + cpu] = virt_to_phys(l1) | PTE_P | PTE_RW;
        ldt_window_init(cpu, l1);
    }
    /* The local APIC's registers: uncached, in the direct map like RAM. */
    map_2m_range(idle_l4, DIRECTMAP_BASE + LAPIC_PHYS, LAPIC_PHYS, L2_PAGE_SIZE, PTE_P | PTE_RW,
                 PTE_P | PTE_RW | PTE_PCD | PTE_PWT | PTE_A | PTE_D | PTE_G);
    map_2m_range(idle_l4, M2P_VIRT_START, m2p_phys, m2p_bytes,
                 PTE_P | PTE_RW | PTE_US, PTE_P | PTE_US | PTE_A | pte_nx_mask);
}

#define LOW_MEMORY_END 0x100000ull

void mm_init(const struct boot_info *bi)
{
    struct reservations res = { 0 };
    uint64_t top = 0;

    for (size_t i = 0; i < bi->nr_ram; i++)
        top = MAX(top, bi->ram[i].end);
    if (!top)
        panic("the boot loader reported no RAM");

    /*
     * The RAM of the first MiB (real-mode area, BIOS data, the AP trampoline)
     * is never handed out; what is not RAM there (VGA, BIOS ROMs) stays
     * device memory, which the privileged domain maps as Xen's dom0 does.
     */
    for (size_t i = 0; i < bi->nr_ram; i++) {
        /* Whole RAM frames only: one that is partly RAM is not RAM (never free). */
        uint64_t end = ALIGN_DOWN(MIN(bi->ram[i].end, LOW_MEMORY_END), PAGE_SIZE);
        if (bi->ram[i].start < end)
            reserve(&res, bi->ram[i].start, end);
    }
    reserve(&res, virt_to_phys(__image_start), virt_to_phys(__image_end));
    for (size_t i = 0; i < bi->nr_modules; i++)
        reserve(&res, bi->modules[i].start, bi->modules[i].end);

    if (rdmsr(MSR_EFER) & EFER_NXE)
        pte_nx_mask = PTE_NX;
    uint32_t r[4];
    cpuid_count(0x80000000, 0, r);
    if (r[0] >= 0x80000008) {
        cpuid_count(0x80000008, 0, r);
        phys_addr_bits = r[0] & 0xff;
    }
    init_frame_table(bi, &res, top >> PAGE_SHIFT);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(virt_to_phys(idle_l4));

    printk(LOG_INFO, "(pvkit) memory: %lu MiB RAM, %lu frames free, M2P %lu entries\n",
           (unsigned long)(top >> 20), (unsigned long)frame_table.nr_free,
           (unsigned long)m2p_entries);
}
