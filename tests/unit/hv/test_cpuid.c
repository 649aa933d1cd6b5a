/*
 * Tests hypervisor/arch/x86/cpuid.c, the CPUID a PV guest sees. Linux
 * decides at boot, from these bits, whether it runs on Xen (the
 * "XenVMMXenVMM" leaves) and which CPU features it may use; a feature leaked
 * to a ring-3 PV kernel (global pages, superpages, SMEP/SMAP, FSGSBASE, PKU,
 * XSAVE, ...) makes it execute something that faults or misbehaves. The tests
 * feed all-ones and all-zeros host values and check exactly which bits go,
 * which are forced, and that everything else passes through untouched.
 */
#include <string.h>
#include "unit.h"
#include "pvkit/cpuid.h"

#define BIT(n) (1u << (n))

static const uint32_t ones[4] = { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu };
static const uint32_t zeros[4] = { 0, 0, 0, 0 };
static const uint32_t pattern[4] = { 0x12345678u, 0x9abcdef0u, 0x0f1e2d3cu, 0x4b5a6978u };

static void view(uint32_t leaf, uint32_t subleaf, const uint32_t host[4], uint32_t out[4])
{
    memset(out, 0xcc, 4 * sizeof(uint32_t));
    cpuid_guest_view(leaf, subleaf, host, 46, out);
}

/* Contract: the guest's view of leaf/subleaf is all zeros whatever the host's. */
static void assert_leaf_zero(uint32_t leaf, uint32_t subleaf, const uint32_t host[4])
{
    uint32_t out[4];

    view(leaf, subleaf, host, out);
    assert_memory_equal(out, zeros, sizeof(out));
}

/* Contract: the view's four registers are exactly eax, ebx, ecx, edx. */
static void assert_regs(const uint32_t out[4], uint32_t eax, uint32_t ebx, uint32_t ecx,
                        uint32_t edx)
{
    assert_int_equal(out[CPUID_EAX], eax);
    assert_int_equal(out[CPUID_EBX], ebx);
    assert_int_equal(out[CPUID_ECX], ecx);
    assert_int_equal(out[CPUID_EDX], edx);
}

static void xen_signature_leaf(void **state)
{
    (void)state;
    uint32_t out[4];
    view(0x40000000, 0, ones, out);
    assert_int_equal(out[CPUID_EAX], 0x40000005);
    char sig[13];
    memcpy(sig, &out[CPUID_EBX], 4);
    memcpy(sig + 4, &out[CPUID_ECX], 4);
    memcpy(sig + 8, &out[CPUID_EDX], 4);
    sig[12] = 0;
    assert_string_equal(sig, "XenVMMXenVMM");
    /* The host's values (say, KVM's own leaves) do not matter. */
    uint32_t out2[4];
    view(0x40000000, 7, pattern, out2);
    assert_memory_equal(out, out2, sizeof(out));
}

/* The fixed Xen leaves: 1 the version (4.17), 2 one hypercall page at MSR 0x40000000, 5 the address bits given. */
static void xen_fixed_leaves(void **state)
{
    static const struct { uint32_t leaf; unsigned addr_bits; uint32_t want[4]; } cases[] = {
        { 0x40000001, 46, { (4u << 16) | 17u, 0, 0, 0 } },
        { 0x40000002, 46, { 1, 0x40000000, 1, 0 } },
        { 0x40000005, 46, { 0, 46, 0, 0 } },
        { 0x40000005, 52, { 0, 52, 0, 0 } },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t out[4];
        memset(out, 0xcc, sizeof(out));
        cpuid_guest_view(cases[i].leaf, 0, ones, cases[i].addr_bits, out);
        assert_regs(out, cases[i].want[CPUID_EAX], cases[i].want[CPUID_EBX],
                    cases[i].want[CPUID_ECX], cases[i].want[CPUID_EDX]);
    }
}

static void other_xen_range_leaves_zero(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { 0x40000003, 0x40000004, 0x40000006, 0x40000010,
                                       0x40000100, 0x40000105, 0x4000ffff };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
        assert_leaf_zero(leaves[i], 0, ones);
}

/* Leaf 1's hidden bits; named are the ones a PV kernel would trip over first.
 * FPU (EDX 0), SSE (EDX 25) and SSE3 (ECX 0) are kept: they are not here. */
static void leaf1_hides_features_and_sets_hypervisor(void **state)
{
    static const uint32_t ecx_hidden = BIT(2) | BIT(3) | BIT(4) | BIT(5) /* VMX */ | BIT(6) |
                                       BIT(7) | BIT(8) | BIT(15) | BIT(17) /* PCID */ |
                                       BIT(21) /* X2APIC */ | BIT(24) |
                                       BIT(26) /* XSAVE */ | BIT(27) /* OSXSAVE */;
    static const uint32_t edx_hidden = BIT(1) | BIT(3) /* PSE */ | BIT(7) | BIT(12) /* MTRR */ |
                                       BIT(13) /* PGE */ | BIT(14) | BIT(17) | BIT(21) |
                                       BIT(22) | BIT(29) | BIT(31);
    uint32_t out[4];

    (void)state;
    view(1, 0, ones, out);
    assert_regs(out, 0xffffffffu, 0xffffffffu, ~ecx_hidden, ~edx_hidden);
    /* The hypervisor bit is set even when the host does not set it. */
    view(1, 0, zeros, out);
    assert_regs(out, 0, 0, BIT(31), 0);
}

/* Leaf 7 subleaf 0's hidden bits (the max subleaf passes through); BMI1
 * (EBX 3) and AVX2 (EBX 5) are kept. A zero host leaf stays zero. */
static void leaf7_hides_supervisor_features(void **state)
{
    static const uint32_t ebx_hidden = BIT(0) /* FSGSBASE */ | BIT(1) | BIT(2) |
                                       BIT(7) /* SMEP */ | BIT(10) | BIT(14) |
                                       BIT(20) /* SMAP */ | BIT(25);
    static const uint32_t ecx_hidden = BIT(2) | BIT(3) /* PKU */ | BIT(4) | BIT(5) | BIT(7) |
                                       BIT(16) /* LA57 */;
    /* IBRS/IBPB and STIBP: the spec-ctrl MSRs are not emulated. */
    static const uint32_t edx_hidden = BIT(20) | BIT(26) /* IBRS/IBPB */ | BIT(27) /* STIBP */ |
                                       BIT(28) | BIT(29) | BIT(31) /* SSBD */;
    uint32_t out[4];

    (void)state;
    view(7, 0, ones, out);
    assert_regs(out, 0xffffffffu, ~ebx_hidden, ~ecx_hidden, ~edx_hidden);
    assert_leaf_zero(7, 0, zeros);
}

static void leaf7_other_subleaves_zero(void **state)
{
    (void)state;
    assert_leaf_zero(7, 1, ones);
    assert_leaf_zero(7, 2, pattern);
}

static void hidden_whole_leaves(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { 5, 0xa, 0xd };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        assert_leaf_zero(leaves[i], 0, ones);
        assert_leaf_zero(leaves[i], 1, pattern);
    }
}

/* PDPE1GB (EDX 26), SVM (ECX 2) and MONITORX (ECX 29) hidden; LM (EDX 29: a 64-bit guest) and
 * NX (EDX 20) kept, as everything else. */
static void ext_leaf_hides_1g_pages_and_svm(void **state)
{
    uint32_t out[4];

    (void)state;
    view(0x80000001, 0, ones, out);
    assert_regs(out, 0xffffffffu, 0xffffffffu, ~(BIT(2) | BIT(29)), ~BIT(26));
}

static void unknown_leaves_pass_through(void **state)
{
    (void)state;
    static const uint32_t leaves[] = { 0, 2, 4, 6, 0xb, 0x80000000, 0x80000002, 0x80000008,
                                       0x3fffffff, 0x40010000, 0xc0000000 };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        for (uint32_t sub = 0; sub < 3; sub++) {
            uint32_t out[4];
            view(leaves[i], sub, pattern, out);
            assert_memory_equal(out, pattern, sizeof(out));
            view(leaves[i], sub, ones, out);
            assert_memory_equal(out, ones, sizeof(out));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xen_signature_leaf),
        cmocka_unit_test(xen_fixed_leaves),
        cmocka_unit_test(other_xen_range_leaves_zero),
        cmocka_unit_test(leaf1_hides_features_and_sets_hypervisor),
        cmocka_unit_test(leaf7_hides_supervisor_features),
        cmocka_unit_test(leaf7_other_subleaves_zero),
        cmocka_unit_test(hidden_whole_leaves),
        cmocka_unit_test(ext_leaf_hides_1g_pages_and_svm),
        cmocka_unit_test(unknown_leaves_pass_through),
    };
    return UNIT_RUN("cpuid", tests);
}
