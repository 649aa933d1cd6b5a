/*
 * Emulation of the instructions a PV guest kernel executes natively but that
 * fault at CPL 3 (docs/linux-pv-interface.md §4), from an explicit
 * allow-list:
 *   #UD  forced-emulation CPUID;
 *   #GP  RDMSR/WRMSR of the segment bases and a few read-only MSRs, MOV
 *        from/to CR0/CR2/CR3/CR4, port I/O (reads all-ones, writes dropped;
 *        a REP string instruction does at most BATCH_PER_CALL iterations
 *        per trap and leaves RIP on itself with RCX/RSI/RDI advanced, so the
 *        guest re-executes it after an exit, as hardware does on an
 *        interrupt), WBINVD (ignored); HLT is not emulated (#GP(0) for the
 *        guest, as on Xen: a PV kernel idles with SCHEDOP_block);
 *   #PF  stores into the guest's own page tables (writable-pagetable
 *        emulation): MOV, XCHG, CMPXCHG, AND/OR m8,imm8 and BTR/BTS m64,imm8,
 *        each validated exactly as mmu_update would validate it.
 * Anything else is not emulated and the exception stands. Instruction bytes
 * are fetched through the guest's own mappings with copy_from_guest(), so a
 * bogus RIP is simply "not emulated".
 */
#include "pvkit/emulate.h"
#include "pvkit/cpuid.h"
#include "pvkit/guest_access.h"
#include "pvkit/guest_walk.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/pv_cpu.h"
#include "pvkit/x86.h"

#define MAX_INSN 15
/* The PAT a PV guest sees (Xen's layout: WB, WT, UC-, UC, WC, WP, ...). */
#define GUEST_PAT 0x0000050100070406ull

/* ud2; .ascii "xen"; cpuid */
static const uint8_t forced_cpuid[7] = { 0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2 };

struct insn {
    uint8_t bytes[MAX_INSN];
    unsigned int avail, pos;
    bool opsize16, rep;
    bool unfinished;        /* a REP instruction with iterations left: RIP stays */
    uint8_t rex;
    uint8_t mod, reg, rm;
    uint64_t ea;            /* memory operand's effective address */
};

static bool fetch(struct insn *in, uint64_t rip)
{
    uint64_t to_page_end = PAGE_SIZE - (rip & (PAGE_SIZE - 1));
    memset(in, 0, sizeof(*in));
    in->avail = (unsigned int)MIN((uint64_t)MAX_INSN, to_page_end);
    if (copy_from_guest(in->bytes, rip, in->avail))
        return false;
    if (in->avail < MAX_INSN &&
        !copy_from_guest(in->bytes + in->avail, rip + in->avail, MAX_INSN - in->avail))
        in->avail = MAX_INSN;
    return true;
}

static bool next_byte(struct insn *in, uint8_t *b)
{
    if (in->pos >= in->avail)
        return false;
    *b = in->bytes[in->pos++];
    return true;
}

/* Skips legacy prefixes (LOCK, DS and other segment overrides, 66, F3) and REX. */
static bool decode_prefixes(struct insn *in, uint8_t *opcode)
{
    uint8_t b;
    for (;;) {
        if (!next_byte(in, &b))
            return false;
        if (b == 0xf0 || b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36)
            continue;
        if (b == 0x66) {
            in->opsize16 = true;
            continue;
        }
        if (b == 0xf3) {
            in->rep = true;
            continue;
        }
        if ((b & 0xf0) == 0x40) {
            in->rex = b;
            if (!next_byte(in, &b))
                return false;
        }
        *opcode = b;
        return true;
    }
}

static uint64_t *gpr(struct cpu_regs *r, unsigned int n)
{
    uint64_t *const map[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
                                &r->rsi, &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11,
                                &r->r12, &r->r13, &r->r14, &r->r15 };
    return map[n & 15];
}

static bool fetch_disp(struct insn *in, unsigned int size, int64_t *disp)
{
    uint8_t b[4];
    for (unsigned int i = 0; i < size; i++)
        if (!next_byte(in, &b[i]))
            return false;
    *disp = size == 1 ? (int8_t)b[0] : (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                                                (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return true;
}

/*
 * Decodes ModRM (and SIB, displacement). For a memory operand computes ea;
 * RIP-relative addresses are finished by the caller once the length is known
 * (rip_relative set).
 */
static bool decode_modrm(struct insn *in, struct cpu_regs *regs, bool *rip_relative)
{
    uint8_t modrm, sib;
    int64_t disp = 0;

    *rip_relative = false;
    if (!next_byte(in, &modrm))
        return false;
    in->mod = modrm >> 6;
    in->reg = ((modrm >> 3) & 7) | ((in->rex & 4) << 1);
    in->rm = (modrm & 7) | ((in->rex & 1) << 3);
    if (in->mod == 3)
        return true;
    if ((modrm & 7) == 4) {
        if (!next_byte(in, &sib))
            return false;
        unsigned int base = (sib & 7) | ((in->rex & 1) << 3);
        unsigned int index = ((sib >> 3) & 7) | ((in->rex & 2) << 2);
        in->ea = index == 4 ? 0 : *gpr(regs, index) << (sib >> 6);
        if ((sib & 7) == 5 && in->mod == 0) {
            if (!fetch_disp(in, 4, &disp))
                return false;
        } else {
            in->ea += *gpr(regs, base);
        }
    } else if ((modrm & 7) == 5 && in->mod == 0) {
        *rip_relative = true;
        if (!fetch_disp(in, 4, &disp))
            return false;
    } else {
        in->ea = *gpr(regs, in->rm);
    }
    if (in->mod == 1 && !fetch_disp(in, 1, &disp))
        return false;
    if (in->mod == 2 && !fetch_disp(in, 4, &disp))
        return false;
    in->ea += (uint64_t)disp;
    return true;
}

/* --- #UD: forced-emulation CPUID ---------------------------------------- */

static unsigned int host_phys_addr_bits(void)
{
    uint32_t r[4];
    cpuid_count(0x80000000, 0, r);
    if (r[CPUID_EAX] < 0x80000008)
        return 36;
    cpuid_count(0x80000008, 0, r);
    return r[CPUID_EAX] & 0xff;
}

void emulate_cpuid(struct cpu_regs *regs)
{
    uint32_t host[4], out[4];
    uint32_t leaf = (uint32_t)regs->rax, subleaf = (uint32_t)regs->rcx;
    cpuid_count(leaf, subleaf, host);
    cpuid_guest_view(leaf, subleaf, host, host_phys_addr_bits(), out);
    regs->rax = out[CPUID_EAX];
    regs->rbx = out[CPUID_EBX];
    regs->rcx = out[CPUID_ECX];
    regs->rdx = out[CPUID_EDX];
}

bool emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[sizeof(forced_cpuid)];

    if (copy_from_guest(insn, regs->rip, sizeof(insn)) ||
        memcmp(insn, forced_cpuid, sizeof(insn)))
        return false;
    emulate_cpuid(regs);
    regs->rip += sizeof(forced_cpuid);
    v->domain->emu_stats.done[EMUL_CPUID]++;
    return true;
}

/* --- #GP: privileged instructions --------------------------------------- */

static bool emulate_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_FS_BASE:
    case MSR_GS_BASE: /* the active (kernel) GS base is live in the MSR */
        if (!is_canonical(value))
            return false;
        wrmsr(msr, value);
        return true;
    case MSR_SHADOW_GS_BASE:
        if (!is_canonical(value))
            return false;
        v->gs_base_user = value;
        return true;
    case MSR_UCODE_REV: /* Intel: write 0, CPUID, read back the microcode revision */
        return true;  /* dropped: the guest sees revision 0 */
    case MSR_TSC_AUX: /* read by RDTSCP/RDPID: the guest's CPU number */
        if (value >> 32)
            return false;
        v->tsc_aux = value;
        wrmsr(MSR_TSC_AUX, value);
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
        *value = rdmsr(msr);
        return true;
    case MSR_PAT:
        *value = GUEST_PAT;
        return true;
    case MSR_SHADOW_GS_BASE:
        *value = v->gs_base_user;
        return true;
    case MSR_TSC_AUX:
        *value = v->tsc_aux;
        return true;
    case MSR_UCODE_REV:
        *value = 0;
        return true;
    case MSR_APIC_BASE:
        *value = 0xfee00000 | (1u << 11) | (v->id == 0 ? 1u << 8 : 0);
        return true;
    default:
        return false;
    }
}

#define CR4_GUEST_VISIBLE (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (1ul << 6) /* MCE */)

static uint64_t guest_cr0(const struct vcpu *v)
{
    return (read_cr0() & ~CR0_TS) | (v->fpu_ts ? CR0_TS : 0);
}

static bool emulate_mov_cr(struct vcpu *v, struct cpu_regs *regs, struct insn *in, bool to_cr)
{
    bool rip_relative;
    if (!decode_modrm(in, regs, &rip_relative) || in->mod != 3)
        return false;
    uint64_t *reg = gpr(regs, in->rm);
    unsigned int cr = in->reg;

    if (to_cr) {
        if (cr == 0) {
            v->fpu_ts = (*reg & CR0_TS) != 0; /* only TS is the guest's */
            write_cr0(guest_cr0(v));
        } else if (cr == 4) {
            v->guest_cr4 = *reg & CR4_GUEST_VISIBLE & read_cr4();
        } else {
            return false;
        }
        v->domain->emu_stats.done[EMUL_CR_WRITE]++;
        return true;
    }
    switch (cr) {
    case 0: *reg = guest_cr0(v); break;
    case 2: *reg = v->cr2; break;
    case 3: *reg = (v->in_kernel ? v->kernel_l4_mfn : v->user_l4_mfn) << PAGE_SHIFT; break;
    case 4: *reg = v->guest_cr4 ? v->guest_cr4 : read_cr4() & CR4_GUEST_VISIBLE; break;
    default: return false;
    }
    v->domain->emu_stats.done[EMUL_CR_READ]++;
    return true;
}

/* MOV to/from DRn: the same checks as set_debugreg/get_debugreg. */
static bool emulate_mov_dr(struct vcpu *v, struct cpu_regs *regs, struct insn *in, bool to_dr)
{
    bool rip_relative;
    if (!decode_modrm(in, regs, &rip_relative) || in->mod != 3)
        return false;
    uint64_t *reg = gpr(regs, in->rm);
    if (!to_dr)
        return vcpu_read_debugreg(v, in->reg, reg) == 0;
    const uint64_t args[5] = { in->reg, *reg };
    return do_set_debugreg(v, args) == 0;
}

/*
 * Port I/O: no domain owns a port yet, so reads give all-ones, writes vanish.
 * INS/OUTS with REP do a bounded number of iterations (in->unfinished if
 * some are left). False if not emulated (an INS store faulted).
 */
static bool emulate_port_io(struct vcpu *v, struct cpu_regs *regs, struct insn *in, uint8_t op)
{
    unsigned int size = (op & 1) ? (in->opsize16 ? 2 : 4) : 1;
    uint8_t imm;

    if (op >= 0xe4 && op <= 0xe7 && !next_byte(in, &imm)) /* E4-E7 take an imm8 port */
        return false;
    if (op == 0xe4 || op == 0xe5 || op == 0xec || op == 0xed) {
        uint64_t ones = size == 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;
        regs->rax = size == 4 ? ones : (regs->rax & ~ones) | ones;
    } else if (op >= 0x6c && op <= 0x6f) {
        uint64_t count = in->rep ? MIN(regs->rcx, (uint64_t)BATCH_PER_CALL) : 1;
        int64_t step = (regs->rflags & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
        for (; count; count--) {
            if (op <= 0x6d) { /* INS: store all-ones at RDI */
                uint32_t ones = 0xffffffff;
                if (copy_to_guest(regs->rdi, &ones, size))
                    return false;
                regs->rdi += (uint64_t)step;
            } else {
                regs->rsi += (uint64_t)step;
            }
            if (in->rep)
                regs->rcx--;
        }
        in->unfinished = in->rep && regs->rcx;
    }
    v->domain->emu_stats.done[EMUL_PORT_IO]++;
    return true;
}

static bool emulate_two_byte(struct vcpu *v, struct cpu_regs *regs, struct insn *in)
{
    uint8_t op;
    uint64_t value;
    uint32_t msr = (uint32_t)regs->rcx;

    if (!next_byte(in, &op))
        return false;
    switch (op) {
    case 0x30: /* wrmsr */
        if (!emulate_wrmsr(v, msr, (regs->rdx << 32) | (uint32_t)regs->rax))
            return false;
        v->domain->emu_stats.done[EMUL_WRMSR]++;
        return true;
    case 0x32: /* rdmsr */
        if (!emulate_rdmsr(v, msr, &value))
            return false;
        regs->rax = (uint32_t)value;
        regs->rdx = value >> 32;
        v->domain->emu_stats.done[EMUL_RDMSR]++;
        return true;
    case 0x06: /* clts: clears the virtual CR0.TS */
        v->fpu_ts = false;
        write_cr0(read_cr0() & ~CR0_TS);
        v->domain->emu_stats.done[EMUL_CR_WRITE]++;
        return true;
    case 0x09: /* wbinvd: caches are coherent for a guest that owns no devices */
        v->domain->emu_stats.done[EMUL_WBINVD]++;
        return true;
    case 0x20:
    case 0x22:
        return emulate_mov_cr(v, regs, in, op == 0x22);
    case 0x21:
    case 0x23:
        return emulate_mov_dr(v, regs, in, op == 0x23);
    default:
        return false;
    }
}

bool emulate_privileged_op(struct vcpu *v, struct cpu_regs *regs)
{
    struct insn in;
    uint8_t op;
    bool done;

    if (!v->in_kernel || !fetch(&in, regs->rip) || !decode_prefixes(&in, &op))
        return false;
    if (op == 0x0f)
        done = emulate_two_byte(v, regs, &in);
    else if ((op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef) ||
             (op >= 0x6c && op <= 0x6f))
        done = v->iopl >= 1 && emulate_port_io(v, regs, &in, op); /* else #GP, as Xen */
    else if (op == 0xfa || op == 0xfb) /* cli/sti: no-ops with a virtual IOPL, as Xen */
        done = v->iopl >= 1;
    else
        done = false;
    if (done && !in.unfinished)
        regs->rip += in.pos;
    return done;
}

/* --- #PF: stores into the guest's own page tables ------------------------ */

static void set_logic_flags(struct cpu_regs *regs, uint64_t result, unsigned int bits)
{
    const uint64_t cf = 1, pf = 1 << 2, zf = 1 << 6, sf = 1 << 7, of = 1 << 11;
    uint64_t masked = bits == 64 ? result : result & ((1ull << bits) - 1);
    regs->rflags &= ~(cf | pf | zf | sf | of);
    if (!masked)
        regs->rflags |= zf;
    if ((masked >> (bits - 1)) & 1)
        regs->rflags |= sf;
    if (!(__builtin_popcount((unsigned int)(masked & 0xff)) & 1))
        regs->rflags |= pf;
}

/* Computes the new 8-byte entry for the decoded store; false if unsupported. */
static bool compute_store(struct cpu_regs *regs, struct insn *in, uint8_t op, uint8_t op2,
                          uint64_t old, uint64_t *new_val, uint64_t *imm_out)
{
    unsigned int byte = in->ea & 7;
    uint8_t imm = 0;

    switch (op) {
    case 0x89: /* mov r/m64, r64 */
    case 0x87: /* xchg r/m64, r64 */
        *new_val = *gpr(regs, in->reg);
        return (in->rex & 8) && byte == 0;
    case 0xc7: { /* mov r/m64, imm32 */
        int64_t disp;
        if (!(in->rex & 8) || byte != 0 || in->reg != 0 || !fetch_disp(in, 4, &disp))
            return false;
        *new_val = (uint64_t)disp;
        return true;
    }
    case 0x80: /* and/or r/m8, imm8 */
        if (!next_byte(in, &imm) || (in->reg != 4 && in->reg != 1))
            return false;
        {
            uint64_t shifted = (uint64_t)imm << (byte * 8), lane = 0xffull << (byte * 8);
            *new_val = in->reg == 4 ? old & (shifted | ~lane) : old | shifted;
        }
        *imm_out = imm;
        return true;
    case 0x0f:
        if (op2 == 0xb1) { /* cmpxchg r/m64, r64 */
            *new_val = regs->rax == old ? *gpr(regs, in->reg) : old;
            return (in->rex & 8) && byte == 0;
        }
        if (op2 == 0xba && (in->reg == 6 || in->reg == 5)) { /* btr/bts r/m64, imm8 */
            if (!(in->rex & 8) || byte != 0 || !next_byte(in, &imm))
                return false;
            uint64_t bit = 1ull << (imm & 63);
            *new_val = in->reg == 6 ? old & ~bit : old | bit;
            *imm_out = imm & 63;
            return true;
        }
        return false;
    default:
        return false;
    }
}

static void apply_side_effects(struct cpu_regs *regs, struct insn *in, uint8_t op, uint8_t op2,
                               uint64_t old, uint64_t new_val, uint64_t imm)
{
    if (op == 0x87)
        *gpr(regs, in->reg) = old;
    else if (op == 0x80)
        set_logic_flags(regs, new_val >> ((in->ea & 7) * 8), 8);
    else if (op == 0x0f && op2 == 0xba)
        regs->rflags = (regs->rflags & ~1ull) | ((old >> imm) & 1);
    else if (op == 0x0f && op2 == 0xb1) {
        regs->rflags &= ~(1ull << 6);
        if (regs->rax == old)
            regs->rflags |= 1ull << 6;
        else
            regs->rax = old;
    }
}

bool emulate_pt_write(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2)
{
    struct insn in;
    uint8_t op, op2 = 0;
    bool rip_relative;
    uint64_t table, old, new_val, imm = 0;

    if (guest_l1_table_at(v, cr2, &table))
        return false;
    if (!fetch(&in, regs->rip) || !decode_prefixes(&in, &op))
        return false;
    if (op == 0x0f && !next_byte(&in, &op2))
        return false;
    if (!decode_modrm(&in, regs, &rip_relative) || in.mod == 3 || rip_relative)
        return false;
    if ((in.ea & ~7ull) != (cr2 & ~7ull))
        return false;
    unsigned int index = (unsigned int)((cr2 & (PAGE_SIZE - 1)) / 8);
    const uint64_t *entry = (const uint64_t *)frame_page(table) + index;
    const struct insn decoded = in; /* compute_store reads immediates: each try restarts here */
    int rc;
    /* Atomic, as the instruction: redone if another CPU set A/D meanwhile. */
    do {
        in = decoded;
        old = __atomic_load_n(entry, __ATOMIC_RELAXED);
        if (!compute_store(regs, &in, op, op2, old, &new_val, &imm))
            return false;
        rc = new_val == old ? 0 : mod_pte_if(v->domain, table, 1, index, old, new_val);
    } while (rc == -XEN_EAGAIN);
    if (rc)
        return false; /* refused: the guest takes the #PF */
    apply_side_effects(regs, &in, op, op2, old, new_val, imm);
    regs->rip += in.pos;
    v->domain->emu_stats.done[EMUL_PT_WRITE]++;
    v->domain->mm_stats.pte_updates++;
    return true;
}

/* --- PVH: lengths of intercepted instructions ----------------------------- */

/* Any legacy prefix: the CPU runs an intercepted instruction with each (FS/GS too), so may a guest. */
static bool is_legacy_prefix(uint8_t b)
{
    static const uint8_t prefixes[] = { 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65,
                                        0x66, 0x67 };
    for (unsigned int i = 0; i < sizeof(prefixes); i++)
        if (prefixes[i] == b)
            return true;
    return false;
}

unsigned int insn_length_at(uint64_t rip, const uint8_t *opcode, unsigned int n)
{
    struct insn in;
    uint8_t b;

    if (!fetch(&in, rip))
        return 0;
    do {                            /* a REX not last is ignored, as by the CPU */
        if (!next_byte(&in, &b))
            return 0;
    } while (is_legacy_prefix(b) || (b & 0xf0) == 0x40);
    if (b != opcode[0])
        return 0;
    for (unsigned int i = 1; i < n; i++)
        if (!next_byte(&in, &b) || b != opcode[i])
            return 0;
    return in.pos;
}

unsigned int insn_decode_mov_to_cr(struct cpu_regs *regs, uint64_t rip, unsigned int *cr,
                                   uint64_t *value)
{
    static const uint8_t mov_to_cr[2] = { 0x0f, 0x22 };
    struct insn in;
    bool rip_relative;

    if (!insn_length_at(rip, mov_to_cr, 2) || !fetch(&in, rip))
        return 0;
    uint8_t op;
    if (!decode_prefixes(&in, &op) || !next_byte(&in, &op) ||
        !decode_modrm(&in, regs, &rip_relative))
        return 0;
    *cr = in.reg;
    *value = *gpr(regs, in.rm);
    return in.pos;
}
