/*
 * Trap dispatch for the PV CPU test kernels (contract in traps.h).
 *
 * trap_dispatch runs on whatever stack the hypervisor delivered on (the
 * interrupted kernel stack, or the stack_switch stack after user mode). It
 * records the frame first, reading CR2 from vcpu_info[0].arch.cr2 for #PF
 * (a PV guest has no usable CR2 of its own), then decides where to resume.
 */
#include "traps.h"
#include "hyp.h"

struct trap_record trap_last;
volatile unsigned long trap_resume;
shared_info_t *trap_shared_info;
struct trap_ctx trap_user_ctx;
void (*trap_user_hook)(struct trap_frame *f);
int (*trap_kernel_hook)(struct trap_frame *f);

extern char trap_stub_0[], trap_stub_1[], trap_stub_2[], trap_stub_3[], trap_stub_4[],
    trap_stub_5[], trap_stub_6[], trap_stub_7[], trap_stub_8[], trap_stub_9[],
    trap_stub_10[], trap_stub_11[], trap_stub_12[], trap_stub_13[], trap_stub_14[],
    trap_stub_15[], trap_stub_16[], trap_stub_17[], trap_stub_18[], trap_stub_19[];

static char *const stubs[20] = {
    trap_stub_0, trap_stub_1, trap_stub_2, trap_stub_3, trap_stub_4,
    trap_stub_5, trap_stub_6, trap_stub_7, trap_stub_8, trap_stub_9,
    trap_stub_10, trap_stub_11, trap_stub_12, trap_stub_13, trap_stub_14,
    trap_stub_15, trap_stub_16, trap_stub_17, trap_stub_18, trap_stub_19,
};

long trap_install(int int80_dpl)
{
    static struct trap_info table[22];
    int n = 0;

    for (int v = 0; v < 20; v++) {
        uint8_t dpl = (v == 3 || v == 4) ? 3 : 0;

        table[n++] = (struct trap_info){ .vector = (uint8_t)v, .flags = dpl,
                                         .cs = FLAT_KERNEL_CS,
                                         .address = (unsigned long)stubs[v] };
    }
    if (int80_dpl >= 0)
        table[n++] = (struct trap_info){ .vector = 0x80, .flags = (uint8_t)int80_dpl,
                                         .cs = FLAT_KERNEL_CS,
                                         .address = (unsigned long)trap_stub_128 };
    table[n] = (struct trap_info){ 0 };
    return hyp_set_trap_table(table);
}

/* Copies the interesting parts of F into trap_last. */
static void record(const struct trap_frame *f)
{
    trap_last.vector = f->vector;
    trap_last.error = f->error;
    trap_last.rip = f->rip;
    trap_last.cs = f->cs;
    trap_last.rflags = f->rflags;
    trap_last.rsp = f->rsp;
    trap_last.ss = f->ss;
    trap_last.rcx = f->rcx;
    trap_last.r11 = f->r11;
    trap_last.rax = f->rax;
    trap_last.cr2 = 0;
    if (f->vector == 14 && trap_shared_info)
        trap_last.cr2 = trap_shared_info->vcpu_info[0].arch.cr2;
    trap_last.count++;
}

/* The frame came from guest user mode or the syscall callback. */
static int from_user(const struct trap_frame *f)
{
    return f->vector == TRAP_SYSCALL || (f->cs & 3) == 3;
}

void trap_dispatch(struct trap_frame *f)
{
    record(f);
    if (from_user(f)) {
        if (trap_user_hook)
            trap_user_hook(f);
        else
            trap_ctx_restore(&trap_user_ctx, 1);
        return;
    }
    if (trap_kernel_hook && trap_kernel_hook(f))
        return;
    if (trap_resume) {
        f->rip = trap_resume;
        trap_resume = 0;
        return;
    }
    test_check(0, "unexpected trap in kernel mode", __FILE__, __LINE__);
    guest_printf("     vector %lu error 0x%lx rip 0x%lx cs 0x%lx cr2 0x%lx\n",
                 f->vector, f->error, f->rip, f->cs, trap_last.cr2);
    test_finish();
}

/* Iret-hypercalls to CS = SEL (kernel mode stays: RPL < 3 in the frame,
 * Xen forces RPL 3), reads CS, and irets back to FLAT_KERNEL_CS. */
unsigned long trap_visit_cs(unsigned long sel)
{
    unsigned long seen;

    __asm__ volatile("mov %%rsp, %%r11\n\t"
                     "pushq %[ss]\n\t"
                     "pushq %%r11\n\t"
                     "pushfq\n\t"
                     "pushq %[sel]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "jmp trap_iret\n"
                     "1:\tmov %%cs, %[seen]\n\t"
                     "mov %%rsp, %%r11\n\t"
                     "pushq %[ss]\n\t"
                     "pushq %%r11\n\t"
                     "pushfq\n\t"
                     "pushq %[kcs]\n\t"
                     "leaq 2f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "jmp trap_iret\n"
                     "2:\n"
                     : [seen] "=&r"(seen)
                     : [sel] "r"(sel), [kcs] "i"(FLAT_KERNEL_CS & ~3), [ss] "i"(FLAT_KERNEL_SS)
                     : "rax", "rcx", "r11", "memory");
    return seen;
}
