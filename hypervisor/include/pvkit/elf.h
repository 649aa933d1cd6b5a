/*
 * Parsing a PV kernel: an ELF64 x86-64 executable carrying Xen ELF notes
 * (docs/linux-pv-interface.md §1.1-1.2). The image is read through an
 * image_src, so it can lie in the hypervisor's memory (a boot module, a
 * host unit test's buffer) or in a guest's (the toolstack's create call);
 * nothing is read twice on trust, and a read that fails is an error.
 */
#ifndef PVKIT_ELF_H
#define PVKIT_ELF_H

#include "pvkit/lib.h"

/*
 * Where an image's bytes are. read() copies n bytes from offset off (the
 * callers keep off + n <= size) into dst: 0, or -XEN_EFAULT.
 */
struct image_src {
    int (*read)(const struct image_src *src, uint64_t off, void *dst, uint64_t n);
    const void *mem;            /* image_in_memory()'s buffer */
    uint64_t guest_va;          /* for readers of guest memory */
    uint64_t size;
};

/* A source over size bytes at img in the hypervisor's (or the host test's) memory. */
struct image_src image_in_memory(const void *img, uint64_t size);

struct pv_kernel_info {
    uint64_t virt_base;         /* XEN_ELFNOTE_VIRT_BASE (default 0) */
    uint64_t paddr_offset;      /* XEN_ELFNOTE_PADDR_OFFSET (default 0) */
    uint64_t entry;             /* XEN_ELFNOTE_ENTRY (default e_entry) */
    uint64_t hypercall_page;    /* XEN_ELFNOTE_HYPERCALL_PAGE, if has_hypercall_page */
    bool has_hypercall_page;
    uint32_t phys32_entry;      /* XEN_ELFNOTE_PHYS32_ENTRY (PVH entry), if has_phys32_entry */
    bool has_phys32_entry;
    uint32_t features_supported; /* XENFEAT_* bits: FEATURES names, SUPPORTED_FEATURES */
    uint32_t features_required;  /* XENFEAT_* bits: FEATURES names marked '!' */
    bool has_supported_features; /* a SUPPORTED_FEATURES note was present */
    uint64_t pstart, pend;      /* pseudo-physical span of the PT_LOAD segments */
    char guest_os[32];
    char xen_version[32];
    char loader[32];
};

/*
 * Validates img as a PV kernel and fills *info. Returns 0, or -XEN_EINVAL
 * (-XEN_EFAULT if the image could not be read) with *why set to a short
 * human-readable reason. Every offset and size in the image is
 * bounds-checked; nothing is trusted.
 */
int pv_kernel_parse(const struct image_src *img, struct pv_kernel_info *info,
                    const char **why);

/*
 * Whether a parsed kernel may run as a PV domain of that kind, as Xen 4.17's
 * builders decide: none that requires supervisor mode; as the initial,
 * privileged domain only if it has no SUPPORTED_FEATURES note or one with
 * XENFEAT_dom0. 0, or -XEN_EINVAL with *why set to one line for the user.
 */
int pv_kernel_check_domain_kind(const struct pv_kernel_info *info, bool privileged,
                                const char **why);

/*
 * Calls load(pseudo_phys, img, offset, filesz, memsz, ctx) for each PT_LOAD
 * segment of an image pv_kernel_parse() accepted, in file order, stopping at
 * the first that fails. The callback copies filesz bytes from the image at
 * offset and zero-fills up to memsz; it returns 0 or -errno, which
 * pv_kernel_load returns. Headers are read again, and a segment that no
 * longer lies inside the parsed span is -XEN_EINVAL: an image in guest
 * memory may change between the parse and the load.
 */
typedef int pv_segment_loader(uint64_t pseudo_phys, const struct image_src *img,
                              uint64_t offset, uint64_t filesz, uint64_t memsz, void *ctx);
int pv_kernel_load(const struct image_src *img, const struct pv_kernel_info *info,
                   pv_segment_loader *load, void *ctx);

#endif
