/*
 * The PVH test-kernel framework: start, IDT, probes (see pvh.h).
 */
#include "pvh.h"

struct hvm_start_info *pvh_start_info;
volatile long pvh_trap_vector = PVH_NO_TRAP;
volatile unsigned long pvh_trap_error;
volatile unsigned long pvh_trap_resume;

volatile uint64_t pvh_irq_count[256];
volatile uint64_t pvh_irq_last;
volatile uint8_t *volatile pvh_upcall_flag;
volatile uint64_t pvh_upcall_vector;

extern const unsigned long pvh_exc_stubs[32];
extern const char pvh_irq_stubs[];

static struct pvh_idt_gate idt[256] __attribute__((aligned(16)));

/* Loads an IDT with our 64-bit code selector (0x08): exceptions 0-31, interrupt stubs 32-255. */
static void load_idt(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc;

    for (unsigned int v = 0; v < 32; v++)
        idt[v] = pvh_gate(pvh_exc_stubs[v], 0x8e);
    for (unsigned int v = 32; v < 256; v++)
        idt[v] = pvh_gate((unsigned long)(pvh_irq_stubs + (v - 32) * 16), 0x8e);
    desc.limit = sizeof(idt) - 1;
    desc.base = (uint64_t)idt;
    __asm__ volatile("lidt %0" : : "m"(desc));
}

/* Entry from pvh_entry.S in 64-bit mode, with start_info's physical address. */
void pvh_start(uint32_t start_info_pa) __attribute__((noreturn));
void pvh_start(uint32_t start_info_pa)
{
    pvh_start_info = (struct hvm_start_info *)(unsigned long)start_info_pa;
    load_idt();
    test_main();
    test_finish();
}

long pvh_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "rdmsr" PVH_PROBE_END
                     : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return pvh_trap_vector;
}

long pvh_wrmsr(uint32_t msr, uint64_t value)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "wrmsr" PVH_PROBE_END
                     : : "a"((uint32_t)value), "d"((uint32_t)(value >> 32)), "c"(msr)
                     : "r11", "memory");
    return pvh_trap_vector;
}

long pvh_outb(uint16_t port, uint8_t value)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "outb %%al, %%dx" PVH_PROBE_END
                     : : "a"(value), "d"(port) : "r11", "memory");
    return pvh_trap_vector;
}

long pvh_inb(uint16_t port, uint8_t *value)
{
    uint8_t v = 0;
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "inb %%dx, %%al" PVH_PROBE_END
                     : "+a"(v) : "d"(port) : "r11", "memory");
    *value = v;
    return pvh_trap_vector;
}

long pvh_write_cr4(unsigned long value)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "mov %0, %%cr4" PVH_PROBE_END
                     : : "r"(value) : "r11", "memory");
    return pvh_trap_vector;
}

long pvh_write_cr0(unsigned long value)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "mov %0, %%cr0" PVH_PROBE_END
                     : : "r"(value) : "r11", "memory");
    return pvh_trap_vector;
}

/*
 * The instructions CPUID does not offer a PVH guest, or that belong to the
 * hypervisor: VMRUN, VMLOAD, VMSAVE, CLGI, STGI, INVLPGA (SVM) and XSETBV
 * (no XSAVE). RAX points at our own memory so that no operand is the issue.
 */
long pvh_run_forbidden(unsigned int which)
{
    static uint8_t scratch[4096] __attribute__((aligned(4096)));
    unsigned long a = (unsigned long)scratch - 0xFFFFFFFF80000000ul;

    pvh_trap_vector = PVH_NO_TRAP;
    switch (which) {
    case 0: __asm__ volatile(PVH_PROBE_BEGIN "vmrun" PVH_PROBE_END : : "a"(a) : "r11", "memory"); break;
    case 1: __asm__ volatile(PVH_PROBE_BEGIN "vmload" PVH_PROBE_END : : "a"(a) : "r11", "memory"); break;
    case 2: __asm__ volatile(PVH_PROBE_BEGIN "vmsave" PVH_PROBE_END : : "a"(a) : "r11", "memory"); break;
    case 3: __asm__ volatile(PVH_PROBE_BEGIN "clgi" PVH_PROBE_END : : : "r11", "memory"); break;
    case 4: __asm__ volatile(PVH_PROBE_BEGIN "stgi" PVH_PROBE_END : : : "r11", "memory"); break;
    case 5: __asm__ volatile(PVH_PROBE_BEGIN "invlpga" PVH_PROBE_END : : "a"(0), "c"(0) : "r11", "memory"); break;
    default:
        __asm__ volatile(PVH_PROBE_BEGIN "xsetbv" PVH_PROBE_END
                         : : "a"(1), "d"(0), "c"(0) : "r11", "memory");
        break;
    }
    return pvh_trap_vector;
}

void pvh_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    uint32_t a = leaf, b, c = subleaf, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    regs[0] = a;
    regs[1] = b;
    regs[2] = c;
    regs[3] = d;
}

long pvh_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                 unsigned long a4, unsigned long a5)
{
    return hypercall5(nr, a1, a2, a3, a4, a5);
}
