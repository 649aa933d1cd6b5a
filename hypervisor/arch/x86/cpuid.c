/*
 * Guest CPUID policy (see pvkit/cpuid.h).
 *
 * Each hidden bit has a concrete reason a PV guest kernel at CPL 3 would
 * break or misbehave with it (superpages, global pages, instructions that
 * #UD or need CPL 0, features whose MSRs we do not emulate); the masks below
 * name them. Unknown leaves pass through: they describe the host, and Linux
 * only reads what it has a use for.
 */
#include "pvkit/cpuid.h"

#define BIT(n) (1u << (n))

/* Leaf 1 */
#define L1_ECX_HIDDEN (BIT(2) /* DTES64 */ | BIT(3) /* MONITOR */ | BIT(4) /* DS-CPL */ | \
                       BIT(5) /* VMX */ | BIT(6) /* SMX */ | BIT(7) /* EIST */ |          \
                       BIT(8) /* TM2 */ | BIT(15) /* PDCM */ | BIT(17) /* PCID */ |       \
                       BIT(21) /* X2APIC */ | BIT(24) /* TSC-deadline */ |                \
                       BIT(26) /* XSAVE */ | BIT(27) /* OSXSAVE */)
#define L1_ECX_HYPERVISOR BIT(31)
#define L1_EDX_HIDDEN (BIT(1) /* VME */ | BIT(3) /* PSE */ | BIT(7) /* MCE */ |         \
                       BIT(12) /* MTRR */ | BIT(13) /* PGE */ | BIT(14) /* MCA */ |      \
                       BIT(17) /* PSE36 */ | BIT(21) /* DS */ | BIT(22) /* ACPI */ |     \
                       BIT(29) /* TM */ | BIT(31) /* PBE */)
/* Leaf 7, subleaf 0 */
#define L7_EBX_HIDDEN (BIT(0) /* FSGSBASE */ | BIT(1) /* TSC_ADJUST */ | BIT(2) /* SGX */ | \
                       BIT(7) /* SMEP */ | BIT(10) /* INVPCID */ | BIT(14) /* MPX */ |       \
                       BIT(20) /* SMAP */ | BIT(25) /* Intel PT */)
#define L7_ECX_HIDDEN (BIT(2) /* UMIP */ | BIT(3) /* PKU */ | BIT(4) /* OSPKE */ |      \
                       BIT(5) /* WAITPKG */ | BIT(7) /* CET_SS */ | BIT(16) /* LA57 */)
#define L7_EDX_HIDDEN (BIT(20) /* CET_IBT */ | BIT(26) /* IBRS/IBPB */ | BIT(27) /* STIBP */ | \
                       BIT(28) /* L1D_FLUSH */ | BIT(29) /* ARCH_CAPS */ | BIT(31) /* SSBD */)
/* Leaf 0x80000001 */
#define LX1_ECX_HIDDEN (BIT(2) /* SVM */ | BIT(29) /* MONITORX */)
#define LX1_EDX_HIDDEN (BIT(26) /* PDPE1GB */)

static uint32_t guest_tsc_khz;  /* set at boot before the APs start; read-only afterwards */

void cpuid_set_tsc_khz(uint32_t khz)
{
    guest_tsc_khz = khz;
}

static void xen_leaf(uint32_t index, uint32_t subleaf, unsigned int phys_addr_bits,
                     uint32_t out[4])
{
    switch (index) {
    case 0:
        out[CPUID_EAX] = CPUID_XEN_BASE + 5;
        out[CPUID_EBX] = 0x566e6558; /* "XenV" */
        out[CPUID_ECX] = 0x65584d4d; /* "MMXe" */
        out[CPUID_EDX] = 0x4d4d566e; /* "nVMM" */
        break;
    case 1:
        out[CPUID_EAX] = CPUID_XEN_VERSION;
        break;
    case 2:
        out[CPUID_EAX] = 1;              /* one hypercall-page frame */
        out[CPUID_EBX] = CPUID_XEN_BASE; /* the MSR that would install it */
        out[CPUID_ECX] = BIT(0);         /* MMU_PT_UPDATE_PRESERVE_AD */
        break;
    case 3: /* time: subleaf 2 gives the host TSC frequency, as Xen */
        if (subleaf == 2)
            out[CPUID_ECX] = guest_tsc_khz;
        break;
    case 5:
        out[CPUID_EBX] = phys_addr_bits & 0xff;
        break;
    default:
        break; /* 4 (HVM) is all zero for a PV guest */
    }
}

void cpuid_guest_view(uint32_t leaf, uint32_t subleaf, const uint32_t host[4],
                      unsigned int phys_addr_bits, uint32_t out[4])
{
    for (int i = 0; i < 4; i++)
        out[i] = host[i];

    if ((leaf & 0xffff0000u) == CPUID_XEN_BASE) {
        for (int i = 0; i < 4; i++)
            out[i] = 0;
        if (leaf - CPUID_XEN_BASE <= 5)
            xen_leaf(leaf - CPUID_XEN_BASE, subleaf, phys_addr_bits, out);
        return;
    }

    switch (leaf) {
    case 1:
        out[CPUID_ECX] = (out[CPUID_ECX] & ~L1_ECX_HIDDEN) | L1_ECX_HYPERVISOR;
        out[CPUID_EDX] &= ~L1_EDX_HIDDEN;
        break;
    case 5:   /* MONITOR/MWAIT: hidden */
    case 0xa: /* architectural PMU: its MSRs are not emulated */
    case 0xd: /* XSAVE state: XSAVE is hidden */
        for (int i = 0; i < 4; i++)
            out[i] = 0;
        break;
    case 7:
        if (subleaf == 0) {
            out[CPUID_EBX] &= ~L7_EBX_HIDDEN;
            out[CPUID_ECX] &= ~L7_ECX_HIDDEN;
            out[CPUID_EDX] &= ~L7_EDX_HIDDEN;
        } else {
            for (int i = 0; i < 4; i++)
                out[i] = 0;
        }
        break;
    case 0x80000001:
        out[CPUID_ECX] &= ~LX1_ECX_HIDDEN;
        out[CPUID_EDX] &= ~LX1_EDX_HIDDEN;
        break;
    default:
        break;
    }
}
