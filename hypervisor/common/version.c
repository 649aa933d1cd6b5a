/*
 * xen_version: what the hypervisor says about itself.
 *
 * We report Xen's ABI level (4.17) rather than pvkit's own version because
 * guests gate features on it; the extraversion and changeset say "pvkit".
 * The feature bitmap lists what Linux requires and we provide (or, for
 * MMU_PT_UPDATE_PRESERVE_AD and gnttab_map_avail_bits, what Linux refuses to
 * boot without; docs/abi.md tracks their implementation status).
 */
#include "pvkit/bootinfo.h"
#include "pvkit/cpuid.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"

#ifndef PVKIT_CHANGESET
#define PVKIT_CHANGESET "unknown"
#endif


/*
 * XENVER_get_features: a PV domain's page-table features; a PVH domain's
 * are those of a translated guest with the callback vector and a pvclock
 * that is safe to use (vcpu_info time, HVM_PARAM_CALLBACK_IRQ).
 */
static uint32_t feature_submap(const struct domain *d)
{
    uint32_t map = is_pvh(d) ? (1u << XENFEAT_writable_page_tables) |
                               (1u << XENFEAT_auto_translated_physmap) |
                               (1u << XENFEAT_hvm_callback_vector) |
                               (1u << XENFEAT_hvm_safe_pvclock)
                             : (1u << XENFEAT_mmu_pt_update_preserve_ad) |
                               (1u << XENFEAT_highmem_assist) |
                               (1u << XENFEAT_gnttab_map_avail_bits);
    if (d->privileged)
        map |= 1u << XENFEAT_dom0;
    return map;
}

static long get_features(struct vcpu *v, uint64_t arg)
{
    struct xen_feature_info fi;
    if (copy_from_guest(&fi, arg, sizeof(fi)))
        return -XEN_EFAULT;
    if (fi.submap_idx >= XENFEAT_NR_SUBMAPS)
        return -XEN_EINVAL;
    fi.submap = feature_submap(v->domain);
    return copy_to_guest(arg, &fi, sizeof(fi));
}

static long copy_string_out(uint64_t arg, const char *s, size_t size)
{
    char buf[1024] = { 0 };
    strlcpy(buf, s, MIN(size, sizeof(buf)));
    return copy_to_guest(arg, buf, size);
}

long do_xen_version(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], arg = args[1];

    switch (cmd) {
    case XENVER_version:
        return CPUID_XEN_VERSION;
    case XENVER_extraversion:
        return copy_string_out(arg, "-pvkit", sizeof(xen_extraversion_t));
    case XENVER_compile_info: {
        struct xen_compile_info info;
        memset(&info, 0, sizeof(info));
        strlcpy(info.compiler, "gcc " __VERSION__, sizeof(info.compiler));
        strlcpy(info.compile_by, "pvkit", sizeof(info.compile_by));
        strlcpy(info.compile_date, __DATE__, sizeof(info.compile_date));
        return copy_to_guest(arg, &info, sizeof(info));
    }
    case XENVER_capabilities:
        return copy_string_out(arg, "xen-3.0-x86_64", sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return copy_string_out(arg, "pvkit " PVKIT_CHANGESET, sizeof(xen_changeset_info_t));
    case XENVER_platform_parameters: {
        struct xen_platform_parameters p = { .virt_start = HYPERVISOR_VIRT_START };
        return copy_to_guest(arg, &p, sizeof(p));
    }
    case XENVER_get_features:
        return get_features(v, arg);
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_guest_handle: {
        xen_domain_handle_t handle = { 0 };
        handle[15] = (uint8_t)v->domain->id;
        return copy_to_guest(arg, handle, sizeof(handle));
    }
    case XENVER_commandline:
        if (!v->domain->privileged)
            return -XEN_EPERM;
        return copy_string_out(arg, hypervisor_cmdline, sizeof(xen_commandline_t));
    case XENVER_build_id:
        return v->domain->privileged ? -XEN_ENODATA : -XEN_EPERM;
    default:
        return -XEN_ENOSYS;
    }
}
