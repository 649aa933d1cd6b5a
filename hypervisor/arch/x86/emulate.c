/*
 * Emulation of the few instructions a PV guest kernel executes natively but
 * that fault at CPL 3 (research/linux-pv-bootpath.md §4.2), from an explicit
 * allow-list: the forced-emulation CPUID (#UD) and RDMSR/WRMSR of the segment
 * base registers and a handful of read-only MSRs (#GP). Anything else is not
 * emulated and the exception stands.
 *
 * Instruction bytes are fetched from the guest with copy_from_guest(), so a
 * bogus RIP is just "not emulated".
 */
#include "pvkit/cpuid.h"
#include "pvkit/guest_access.h"
#include "pvkit/mm.h"
#include "pvkit/traps.h"
#include "pvkit/x86.h"

/* ud2; .ascii "xen"; cpuid */
static const uint8_t forced_cpuid[7] = { 0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2 };

static unsigned int host_phys_addr_bits(void)
{
    uint32_t r[4];
    cpuid_count(0x80000000, 0, r);
    if (r[CPUID_EAX] < 0x80000008)
        return 36;
    cpuid_count(0x80000008, 0, r);
    return r[CPUID_EAX] & 0xff;
}

bool emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[sizeof(forced_cpuid)];
    uint32_t host[4], out[4];

    if (copy_from_guest(insn, regs->rip, sizeof(insn)) ||
        memcmp(insn, forced_cpuid, sizeof(insn)))
        return false;
    uint32_t leaf = (uint32_t)regs->rax, subleaf = (uint32_t)regs->rcx;
    cpuid_count(leaf, subleaf, host);
    cpuid_guest_view(leaf, subleaf, host, host_phys_addr_bits(), out);
    regs->rax = out[CPUID_EAX];
    regs->rbx = out[CPUID_EBX];
    regs->rcx = out[CPUID_ECX];
    regs->rdx = out[CPUID_EDX];
    regs->rip += sizeof(forced_cpuid);
    v->domain->emu_stats.cpuid++;
    return true;
}

static bool is_canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

static bool emulate_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE:
        if (!is_canonical(value))
            return false;
        /* The active GS base is the guest's current mode's: live in the MSR. */
        wrmsr(msr, value);
        return true;
    case MSR_SHADOW_GS_BASE:
        if (!is_canonical(value))
            return false;
        v->gs_base_user = value;
        return true;
    default:
        return false;
    }
}

static bool emulate_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_PAT:
        *value = rdmsr(msr);
        return true;
    case MSR_SHADOW_GS_BASE:
        *value = v->gs_base_user;
        return true;
    case MSR_APIC_BASE:
        *value = 0xfee00000 | (1u << 11) | (v->id == 0 ? 1u << 8 : 0);
        return true;
    default:
        return false;
    }
}

bool emulate_privileged_op(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[2];
    uint32_t msr = (uint32_t)regs->rcx;
    uint64_t value;

    if (copy_from_guest(insn, regs->rip, sizeof(insn)) || insn[0] != 0x0f)
        return false;
    if (insn[1] == 0x30) { /* wrmsr */
        value = (regs->rdx << 32) | (uint32_t)regs->rax;
        if (!emulate_wrmsr(v, msr, value))
            return false;
        v->domain->emu_stats.wrmsr++;
    } else if (insn[1] == 0x32) { /* rdmsr */
        if (!emulate_rdmsr(v, msr, &value))
            return false;
        regs->rax = (uint32_t)value;
        regs->rdx = value >> 32;
        v->domain->emu_stats.rdmsr++;
    } else {
        return false;
    }
    regs->rip += 2;
    return true;
}
