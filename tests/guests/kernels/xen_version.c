/*
 * xen_version: every XENVER_* sub-op Linux 6.1 reads (boot path and
 * /sys/hypervisor), checked for return value and well-formed output:
 * strings NUL-terminated within their fixed arrays (buffers are pre-filled
 * with 0xff so a missing terminator shows), the XENFEAT submap 0 with the
 * bits Linux requires (mmu_pt_update_preserve_ad, gnttab_map_avail_bits)
 * set and the ones that would derail it (auto_translated_physmap,
 * supervisor_mode_kernel) clear, plus the error cases: an unknown sub-op,
 * an unknown feature submap and a NULL output pointer.
 */
#include "guest.h"

/* Fills N bytes at P with 0xff so an unterminated string is visible. */
static void poison(void *p, size_t n)
{
    memset(p, 0xff, n);
}

/* Checks that the string S of array size N is NUL-terminated; prints it. */
static void expect_string(const char *what, const char *s, size_t n)
{
    int terminated = guest_strnlen(s, n) < n;

    EXPECT(terminated);
    if (terminated)
        guest_printf("     %s = \"%s\"\n", what, s);
}

/* Checks XENVER_version; counts one result per EXPECT. */
static void test_version(void)
{
    long v = hyp_xen_version(XENVER_version, NULL);

    TEST("XENVER_version");
    guest_printf("     version = %ld.%ld\n", v >> 16, v & 0xffff);
    EXPECT(v >= (3L << 16));
    EXPECT((v >> 16) < 0x100);
}

/* Checks XENVER_extraversion/compile_info/capabilities/changeset; counts one result per EXPECT. */
static void test_strings(void)
{
    static xen_extraversion_t extra;
    static xen_compile_info_t ci;
    static xen_capabilities_info_t caps;
    static xen_changeset_info_t cs;

    TEST("XENVER_extraversion/compile_info/capabilities/changeset");
    poison(extra, sizeof(extra));
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, extra), 0);
    expect_string("extraversion", extra, sizeof(extra));
    poison(&ci, sizeof(ci));
    EXPECT_EQ(hyp_xen_version(XENVER_compile_info, &ci), 0);
    expect_string("compiler", ci.compiler, sizeof(ci.compiler));
    expect_string("compile_by", ci.compile_by, sizeof(ci.compile_by));
    expect_string("compile_domain", ci.compile_domain, sizeof(ci.compile_domain));
    expect_string("compile_date", ci.compile_date, sizeof(ci.compile_date));
    poison(caps, sizeof(caps));
    EXPECT_EQ(hyp_xen_version(XENVER_capabilities, caps), 0);
    expect_string("capabilities", caps, sizeof(caps));
    EXPECT(guest_strstr(caps, "xen-3.0-x86_64") != NULL);
    poison(cs, sizeof(cs));
    EXPECT_EQ(hyp_xen_version(XENVER_changeset, cs), 0);
    expect_string("changeset", cs, sizeof(cs));
}

/* Checks XENVER_platform_parameters/pagesize/guest_handle/commandline; counts one result per EXPECT. */
static void test_platform(void)
{
    static xen_platform_parameters_t pp;
    static xen_domain_handle_t handle;
    static xen_commandline_t cmdline;

    TEST("XENVER_platform_parameters/pagesize/guest_handle/commandline");
    poison(&pp, sizeof(pp));
    EXPECT_EQ(hyp_xen_version(XENVER_platform_parameters, &pp), 0);
    EXPECT_EQ(pp.virt_start, HYPERVISOR_VIRT_START);
    EXPECT_EQ(hyp_xen_version(XENVER_pagesize, NULL), 4096);
    poison(handle, sizeof(handle));
    EXPECT_EQ(hyp_xen_version(XENVER_guest_handle, handle), 0);
    guest_printf("     guest_handle[0..3] = %x %x %x %x\n",
                 handle[0], handle[1], handle[2], handle[3]);
    poison(cmdline, sizeof(cmdline));
    EXPECT_EQ(hyp_xen_version(XENVER_commandline, cmdline), 0);
    expect_string("commandline", cmdline, sizeof(cmdline));
    EXPECT(guest_strstr(cmdline, "dom0_mem=") != NULL);
}

/* Checks XENVER_get_features; counts one result per EXPECT. */
static void test_features(void)
{
    static xen_feature_info_t fi;

    TEST("XENVER_get_features");
    fi.submap_idx = 0;
    fi.submap = 0xdeadbeef;
    EXPECT_EQ(hyp_xen_version(XENVER_get_features, &fi), 0);
    guest_printf("     submap 0 = 0x%x\n", fi.submap);
    EXPECT(fi.submap & (1u << XENFEAT_mmu_pt_update_preserve_ad));
    EXPECT(fi.submap & (1u << XENFEAT_gnttab_map_avail_bits));
    EXPECT(!(fi.submap & (1u << XENFEAT_auto_translated_physmap)));
    EXPECT(!(fi.submap & (1u << XENFEAT_supervisor_mode_kernel)));
    EXPECT(!(fi.submap & (1u << XENFEAT_hvm_callback_vector)));
    fi.submap_idx = XENFEAT_NR_SUBMAPS;
    EXPECT_EQ(hyp_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);
}

/* Checks xen_version errors; counts one result per EXPECT. */
static void test_errors(void)
{
    TEST("xen_version errors");
    EXPECT_EQ(hyp_xen_version(0x7fff, NULL), -XEN_ENOSYS);
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, NULL), -XEN_EFAULT);
    EXPECT_EQ(hyp_xen_version(XENVER_get_features, NULL), -XEN_EFAULT);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_version();
    test_strings();
    test_platform();
    test_features();
    test_errors();
}
