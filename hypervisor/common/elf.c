/*
 * PV kernel image parsing (see pvkit/elf.h).
 *
 * Segments are placed by p_paddr, never p_vaddr: Linux's per-CPU segment is
 * linked at virtual address 0 but has a proper physical address. The
 * pseudo-physical address of a segment is p_paddr - PADDR_OFFSET, and the
 * kernel sees it at VIRT_BASE + that. A kernel must carry the Xen notes (in
 * PT_NOTE segments), say it speaks "xen-3.0", and use the "generic" loader
 * (or be Linux), as Xen's own builder requires. Absent notes default as in
 * Xen 4.17's libelf: VIRT_BASE 0, PADDR_OFFSET 0 (but PADDR_OFFSET without
 * VIRT_BASE is refused), ENTRY the ELF entry point. FEATURES is a '|'
 * separated list of feature names, '!' marking the ones the kernel requires
 * (an unknown required name is refused); SUPPORTED_FEATURES adds a bitmap.
 * Legacy `__xen_guest` sections and notes only in section headers (no
 * PT_NOTE) are not read.
 */
#include <elf.h>
#include "pvkit/elf.h"
#include "pvkit/xenabi.h"

#define MAX_IMAGE_SPAN (1ull << 30) /* everything must fit the 1 GiB boot map */

struct note_ctx {
    struct pv_kernel_info *info;
    bool seen_xen_note, has_virt_base, has_paddr_offset, has_entry;
    bool bad_features;          /* FEATURES requires a feature with no known name */
};

/* The feature names FEATURES may use, as Xen 4.17's libelf knows them (a name table, alike to xsd.c's by shape). */
static const char *const feature_names[] = {
    [XENFEAT_writable_page_tables] = "writable_page_tables",
    [XENFEAT_writable_descriptor_tables] = "writable_descriptor_tables",
    [XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
    [XENFEAT_supervisor_mode_kernel] = "supervisor_mode_kernel",
    [XENFEAT_pae_pgdir_above_4gb] = "pae_pgdir_above_4gb",
    [XENFEAT_hvm_callback_vector] = "hvm_callback_vector",
    [XENFEAT_dom0] = "dom0",
};

/* The bit of feature `name` (len bytes), or -1 if no feature has that name. */
static int feature_bit(const char *name, size_t len)
{
    for (unsigned int i = 0; i < ARRAY_SIZE(feature_names); i++)
        if (feature_names[i] && strlen(feature_names[i]) == len &&
            !memcmp(feature_names[i], name, len))
            return (int)i;
    return -1;
}

/* Parses a FEATURES string ("a|!b|c") into info's supported/required maps. */
static void parse_features(struct note_ctx *c, const char *str)
{
    while (*str) {
        size_t len = 0;
        while (str[len] && str[len] != '|')
            len++;
        bool required = str[0] == '!';
        int bit = feature_bit(str + required, len - required);
        if (bit >= 0) {
            c->info->features_supported |= 1u << bit;
            if (required)
                c->info->features_required |= 1u << bit;
        } else if (required) {
            c->bad_features = true;
        }
        str += len + (str[len] == '|');
    }
}

static uint64_t note_value(const uint8_t *desc, uint32_t descsz)
{
    uint64_t v = 0;
    memcpy(&v, desc, MIN(descsz, (uint32_t)sizeof(v)));
    return v;
}

static void note_string(char *dst, size_t size, const uint8_t *desc, uint32_t descsz)
{
    size_t n = MIN((size_t)descsz, size - 1);
    memcpy(dst, desc, n);
    dst[n] = 0;
    dst[strnlen(dst, n)] = 0;
}

static void apply_note(struct note_ctx *c, uint32_t type, const uint8_t *desc, uint32_t descsz)
{
    struct pv_kernel_info *info = c->info;
    switch (type) { /* one case per note, alike by shape: each stores its own field */
    case XEN_ELFNOTE_VIRT_BASE:
        info->virt_base = note_value(desc, descsz);
        c->has_virt_base = true;
        break;
    case XEN_ELFNOTE_PADDR_OFFSET:
        info->paddr_offset = note_value(desc, descsz);
        c->has_paddr_offset = true;
        break;
    case XEN_ELFNOTE_ENTRY:
        info->entry = note_value(desc, descsz);
        c->has_entry = true;
        break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        info->hypercall_page = note_value(desc, descsz);
        info->has_hypercall_page = true;
        break;
    case XEN_ELFNOTE_PHYS32_ENTRY:
        info->phys32_entry = (uint32_t)note_value(desc, MIN(descsz, 4u));
        info->has_phys32_entry = true;
        break;
    case XEN_ELFNOTE_GUEST_OS:
        note_string(info->guest_os, sizeof(info->guest_os), desc, descsz);
        break;
    case XEN_ELFNOTE_XEN_VERSION:
        note_string(info->xen_version, sizeof(info->xen_version), desc, descsz);
        break;
    case XEN_ELFNOTE_LOADER:
        note_string(info->loader, sizeof(info->loader), desc, descsz);
        break;
    case XEN_ELFNOTE_FEATURES: {
        char features[256];
        note_string(features, sizeof(features), desc, descsz);
        parse_features(c, features);
        break;
    }
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
        info->features_supported |= (uint32_t)note_value(desc, MIN(descsz, 4u));
        info->has_supported_features = true;
        break;
    default:
        break;
    }
}

#define NOTE_DESC_MAX 256 /* longer descriptors are read in part (strings are cut) */

static int read_at(const struct image_src *img, uint64_t off, void *dst, uint64_t n)
{
    return img->read(img, off, dst, n);
}

static int read_failed(const char **why)
{
    *why = "kernel image unreadable";
    return -XEN_EFAULT;
}

/* Walks the PT_NOTE segment at [off, off + size): 0, -XEN_EINVAL if malformed, -XEN_EFAULT. */
static int parse_notes(const struct image_src *img, uint64_t off, uint64_t size,
                       struct note_ctx *c)
{
    while (size >= 12) {
        uint32_t hdr[3]; /* namesz, descsz, type */
        char name[4];
        uint8_t desc[NOTE_DESC_MAX];
        if (read_at(img, off, hdr, sizeof(hdr)))
            return -XEN_EFAULT;
        uint64_t name_len = ALIGN_UP((uint64_t)hdr[0], 4);
        uint64_t desc_len = ALIGN_UP((uint64_t)hdr[1], 4);
        if (12 + name_len + desc_len > size)
            return -XEN_EINVAL;
        if (hdr[0] == 4) {
            uint32_t n = MIN(hdr[1], (uint32_t)NOTE_DESC_MAX);
            if (read_at(img, off + 12, name, 4))
                return -XEN_EFAULT;
            if (!memcmp(name, "Xen", 4)) {
                if (read_at(img, off + 12 + name_len, desc, n))
                    return -XEN_EFAULT;
                c->seen_xen_note = true;
                apply_note(c, hdr[2], desc, n);
            }
        }
        off += 12 + name_len + desc_len;
        size -= 12 + name_len + desc_len;
    }
    return 0;
}

static int fail(const char **why, const char *reason)
{
    *why = reason;
    return -XEN_EINVAL;
}

static int check_header(const Elf64_Ehdr *eh, uint64_t size, const char **why)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
        return fail(why, "not an ELF image");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return fail(why, "not a 64-bit ELF image (32-bit PV is not supported)");
    if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
        return fail(why, "not an x86-64 ELF image");
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return fail(why, "not an executable ELF image");
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || (eh->e_phoff & 7) ||
        eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
        return fail(why, "malformed ELF program headers");
    return 0;
}

/* Reads program header i of an image whose header check_header() accepted. */
static int read_phdr(const struct image_src *img, const Elf64_Ehdr *eh, unsigned int i,
                     Elf64_Phdr *ph)
{
    return read_at(img, eh->e_phoff + (uint64_t)i * sizeof(*ph), ph, sizeof(*ph));
}

static bool segment_in_file(const Elf64_Phdr *ph, uint64_t size)
{
    return ph->p_offset <= size && ph->p_filesz <= size - ph->p_offset;
}

static int scan_segments(const struct image_src *img, const Elf64_Ehdr *eh,
                         struct note_ctx *c, const char **why)
{
    bool have_load = false;

    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        if (read_phdr(img, eh, i, &ph))
            return read_failed(why);
        if (ph.p_type != PT_NOTE && ph.p_type != PT_LOAD)
            continue;
        if (!segment_in_file(&ph, img->size))
            return fail(why, "ELF segment outside the file");
        if (ph.p_type == PT_NOTE) {
            int rc = parse_notes(img, ph.p_offset, ph.p_filesz, c);
            if (rc == -XEN_EFAULT)
                return read_failed(why);
            if (rc)
                return fail(why, "malformed ELF note");
            continue;
        }
        if (ph.p_filesz > ph.p_memsz || ph.p_paddr + ph.p_memsz < ph.p_paddr)
            return fail(why, "malformed ELF load segment");
        have_load = true;
    }
    return have_load ? 0 : fail(why, "no loadable ELF segment");
}

static int compute_span(const struct image_src *img, const Elf64_Ehdr *eh,
                        struct pv_kernel_info *info, const char **why)
{
    uint64_t lo = UINT64_MAX, hi = 0;

    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        Elf64_Phdr ph;
        if (read_phdr(img, eh, i, &ph))
            return read_failed(why);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_paddr < info->paddr_offset)
            return fail(why, "ELF segment below PADDR_OFFSET");
        lo = MIN(lo, ph.p_paddr - info->paddr_offset);
        hi = MAX(hi, ph.p_paddr - info->paddr_offset + ph.p_memsz);
    }
    if (lo >= hi || hi > MAX_IMAGE_SPAN)
        return fail(why, "kernel image does not fit the 1 GiB initial mapping");
    info->pstart = lo;
    info->pend = hi;
    return 0;
}

static int check_notes(const struct note_ctx *c, const struct pv_kernel_info *info,
                       const char **why)
{
    if (!c->seen_xen_note)
        return fail(why, "no Xen ELF notes: not a PV kernel");
    if (strncmp(info->xen_version, "xen-3.0", 7))
        return fail(why, "kernel does not speak the xen-3.0 ABI (XEN_VERSION note)");
    if (strncmp(info->loader, "generic", 7) && strncmp(info->guest_os, "linux", 5))
        return fail(why, "kernel asks for an unknown loader (LOADER note)");
    if (c->has_paddr_offset && !c->has_virt_base)
        return fail(why, "PADDR_OFFSET note without VIRT_BASE");
    if (c->bad_features)
        return fail(why, "kernel requires a feature with no known name (FEATURES note)");
    return 0;
}

static bool va_in_image(const struct pv_kernel_info *info, uint64_t va, uint64_t len)
{
    return va >= info->virt_base + info->pstart && va - info->virt_base <= info->pend &&
           len <= info->pend - (va - info->virt_base);
}

static int read_memory(const struct image_src *src, uint64_t off, void *dst, uint64_t n)
{
    memcpy(dst, (const uint8_t *)src->mem + off, n);
    return 0;
}

struct image_src image_in_memory(const void *img, uint64_t size)
{
    return (struct image_src){ .read = read_memory, .mem = img, .size = size };
}

int pv_kernel_parse(const struct image_src *img, struct pv_kernel_info *info,
                    const char **why)
{
    Elf64_Ehdr eh;
    struct note_ctx c = { .info = info };
    int rc;

    memset(info, 0, sizeof(*info));
    if (img->size < sizeof(eh))
        return fail(why, "not an ELF image");
    if (read_at(img, 0, &eh, sizeof(eh)))
        return read_failed(why);
    if ((rc = check_header(&eh, img->size, why)) || (rc = scan_segments(img, &eh, &c, why)) ||
        (rc = check_notes(&c, info, why)))
        return rc;
    if (!c.has_entry)
        info->entry = eh.e_entry;
    if ((rc = compute_span(img, &eh, info, why)))
        return rc;
    if (!va_in_image(info, info->entry, 1))
        return fail(why, "entry point outside the kernel image");
    if (info->has_hypercall_page &&
        (!IS_ALIGNED(info->hypercall_page, 4096) ||
         !va_in_image(info, info->hypercall_page, 4096)))
        return fail(why, "hypercall page outside the kernel image or unaligned");
    return 0;
}

int pv_kernel_load(const struct image_src *img, const struct pv_kernel_info *info,
                   pv_segment_loader *load, void *ctx)
{
    Elf64_Ehdr eh;

    const char *why;
    if (read_at(img, 0, &eh, sizeof(eh)))
        return -XEN_EFAULT;
    if (check_header(&eh, img->size, &why)) /* changed since the parse */
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        int rc;
        if (read_phdr(img, &eh, i, &ph))
            return -XEN_EFAULT;
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        /* Read again: a source in guest memory may have changed since the parse. */
        if (!segment_in_file(&ph, img->size) || ph.p_filesz > ph.p_memsz ||
            ph.p_paddr < info->paddr_offset || ph.p_paddr - info->paddr_offset < info->pstart ||
            ph.p_paddr - info->paddr_offset > info->pend ||
            ph.p_memsz > info->pend - (ph.p_paddr - info->paddr_offset))
            return -XEN_EINVAL;
        if ((rc = load(ph.p_paddr - info->paddr_offset, img, ph.p_offset, ph.p_filesz,
                       ph.p_memsz, ctx)))
            return rc;
    }
    return 0;
}

int pv_kernel_check_domain_kind(const struct pv_kernel_info *info, bool privileged,
                                const char **why)
{
    if (info->features_required & (1u << XENFEAT_supervisor_mode_kernel))
        return fail(why, "kernel requires supervisor-mode execution (FEATURES note), "
                         "which a PV guest never has");
    if (privileged && info->has_supported_features &&
        !(info->features_supported & (1u << XENFEAT_dom0)))
        return fail(why, "kernel does not support running as the initial domain (no dom0 in "
                         "its SUPPORTED_FEATURES): boot it with initial_domain=domU");
    return 0;
}
