/*
 * Tests hypervisor/common/elf.c: validating a PV kernel image (ELF64 with
 * Xen ELF notes) and handing its segments to the domain builder. The image
 * comes from whoever boots the machine and is read by the hypervisor at full
 * privilege, so every refusal matters as much as acceptance: each malformed
 * image must return -XEN_EINVAL with a reason (checked to be the intended
 * one), never read outside the image (ASan: each image is an allocation of
 * exactly its size), and never be accepted with an entry point or hypercall
 * page outside what gets loaded. A bounded random byte-flip loop backs the
 * hand-written cases, and the real test kernels in build/guests must parse.
 *
 * Images are built in memory from a small description (struct spec): the ELF
 * header, program headers (the PT_LOADs, then one PT_NOTE), the notes at
 * 0x200, and segment contents from 0x1000 on.
 */
#include <elf.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "../elf64_exec.h"
#include "pvkit/elf.h"
#include "pvkit/xenabi.h"

#define VB        0xffffffff80000000ull /* Linux's VIRT_BASE */
#define NOTES_OFF 0x200
#define DATA_OFF  0x1000

struct note {
    uint32_t type;
    const char *name;           /* "Xen" unless set */
    uint8_t desc[64];
    uint32_t descsz;
};

struct seg {
    uint32_t type;
    uint64_t paddr, filesz, memsz;
};

struct spec {
    uint64_t e_entry;
    int nr_notes;
    struct note notes[16];
    int nr_segs;
    struct seg segs[4];
};

static void add_note_u64(struct spec *s, uint32_t type, uint64_t v)
{
    struct note *n = &s->notes[s->nr_notes++];
    *n = (struct note){ .type = type, .descsz = 8 };
    memcpy(n->desc, &v, 8);
}

static void add_note_str(struct spec *s, uint32_t type, const char *str)
{
    struct note *n = &s->notes[s->nr_notes++];
    *n = (struct note){ .type = type, .descsz = (uint32_t)strlen(str) + 1 };
    memcpy(n->desc, str, n->descsz);
}

static void del_note(struct spec *s, uint32_t type)
{
    for (int i = 0; i < s->nr_notes; i++)
        if (s->notes[i].type == type) {
            memmove(&s->notes[i], &s->notes[i + 1],
                    (size_t)(s->nr_notes - i - 1) * sizeof(s->notes[0]));
            s->nr_notes--;
            i--;
        }
}

/*
 * The good image: text+data at pseudo-physical 0x200000 (3 pages), then a
 * segment with 0x800 bytes of data and bss up to 0x209000. PADDR_OFFSET is
 * VIRT_BASE, so p_paddr is a virtual address.
 */
static struct spec good_spec(void)
{
    struct spec s = { .e_entry = VB + 0x200000 };
    add_note_str(&s, XEN_ELFNOTE_GUEST_OS, "pvkit-test");
    add_note_str(&s, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    add_note_str(&s, XEN_ELFNOTE_LOADER, "generic");
    add_note_u64(&s, XEN_ELFNOTE_VIRT_BASE, VB);
    add_note_u64(&s, XEN_ELFNOTE_PADDR_OFFSET, VB);
    add_note_u64(&s, XEN_ELFNOTE_HYPERCALL_PAGE, VB + 0x202000);
    s.segs[s.nr_segs++] = (struct seg){ PT_LOAD, VB + 0x200000, 0x3000, 0x3000 };
    s.segs[s.nr_segs++] = (struct seg){ PT_LOAD, VB + 0x204000, 0x800, 0x5000 };
    return s;
}

static uint64_t data_offset(const struct spec *s, int i)
{
    uint64_t off = DATA_OFF;
    for (int j = 0; j < i; j++)
        off += (s->segs[j].filesz + 0xfff) & ~0xfffull;
    return off;
}

/* Builds the image into an allocation of exactly *size bytes. */
static uint8_t *build(const struct spec *s, size_t *size)
{
    size_t total = data_offset(s, s->nr_segs);
    uint8_t *img = calloc(1, total);
    assert_non_null(img);

    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    elf64_exec_header(eh, s->e_entry, (uint16_t)(s->nr_segs + (s->nr_notes ? 1 : 0)));

    Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff);
    for (int i = 0; i < s->nr_segs; i++) {
        uint64_t off = data_offset(s, i);
        ph[i] = (Elf64_Phdr){ .p_type = s->segs[i].type, .p_flags = PF_R | PF_W | PF_X,
                              .p_offset = off, .p_vaddr = s->segs[i].paddr,
                              .p_paddr = s->segs[i].paddr, .p_filesz = s->segs[i].filesz,
                              .p_memsz = s->segs[i].memsz, .p_align = 0x1000 };
        for (uint64_t b = 0; b < s->segs[i].filesz; b++)
            img[off + b] = (uint8_t)(b * 13 + (uint64_t)i * 101 + 7);
    }

    uint64_t off = NOTES_OFF;
    for (int i = 0; i < s->nr_notes; i++) {
        const struct note *n = &s->notes[i];
        const char *name = n->name ? n->name : "Xen";
        uint32_t namesz = (uint32_t)strlen(name) + 1;
        memcpy(img + off, &namesz, 4);
        memcpy(img + off + 4, &n->descsz, 4);
        memcpy(img + off + 8, &n->type, 4);
        memcpy(img + off + 12, name, namesz);
        off += 12 + ((namesz + 3) & ~3u);
        memcpy(img + off, n->desc, n->descsz);
        off += (n->descsz + 3) & ~3u;
        assert_true(off <= DATA_OFF);
    }
    if (s->nr_notes) {
        ph[s->nr_segs] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_flags = PF_R,
                                       .p_offset = NOTES_OFF, .p_filesz = off - NOTES_OFF,
                                       .p_memsz = off - NOTES_OFF, .p_align = 4 };
    }
    *size = total;
    return img;
}

static Elf64_Ehdr *ehdr(uint8_t *img) { return (Elf64_Ehdr *)img; }
static Elf64_Phdr *phdr(uint8_t *img, int i)
{
    return (Elf64_Phdr *)(img + ehdr(img)->e_phoff) + i;
}

/* ---- acceptance ------------------------------------------------------ */

/* pv_kernel_parse over an image in memory. */
static int parse_mem(const void *img, size_t size, struct pv_kernel_info *info, const char **why)
{
    struct image_src src = image_in_memory(img, size);
    return pv_kernel_parse(&src, info, why);
}

/* Parses spec s, which must be accepted, into *info. */
static void parse_ok(const struct spec *s, struct pv_kernel_info *info)
{
    size_t size;
    uint8_t *img = build(s, &size);
    const char *why = NULL;
    int rc = parse_mem(img, size, info, &why);
    if (rc)
        fail_msg("refused: %s", why);
    free(img);
}

static void good_image_accepted(void **state)
{
    (void)state;
    struct spec s = good_spec();
    struct pv_kernel_info info;

    memset(&info, 0xa5, sizeof(info));
    parse_ok(&s, &info);
    assert_true(info.virt_base == VB);
    assert_true(info.paddr_offset == VB);          /* defaulted to VIRT_BASE */
    assert_true(info.entry == VB + 0x200000);      /* defaulted to e_entry */
    assert_int_equal(info.pstart, 0x200000);
    assert_int_equal(info.pend, 0x209000);
    assert_true(info.has_hypercall_page);
    assert_true(info.hypercall_page == VB + 0x202000);
    assert_string_equal(info.guest_os, "pvkit-test");
    assert_string_equal(info.xen_version, "xen-3.0");
    assert_string_equal(info.loader, "generic");
}

/* Linux style: PADDR_OFFSET 0 with physical p_paddr, ENTRY note overriding e_entry. */
static void linux_style_notes_accepted(void **state)
{
    (void)state;
    struct spec s = good_spec();
    del_note(&s, XEN_ELFNOTE_LOADER);
    del_note(&s, XEN_ELFNOTE_GUEST_OS);
    del_note(&s, XEN_ELFNOTE_HYPERCALL_PAGE);
    del_note(&s, XEN_ELFNOTE_PADDR_OFFSET);
    add_note_str(&s, XEN_ELFNOTE_GUEST_OS, "linux");
    add_note_u64(&s, XEN_ELFNOTE_PADDR_OFFSET, 0);
    add_note_u64(&s, XEN_ELFNOTE_ENTRY, VB + 0x1001000);
    s.e_entry = 0x1234;                             /* ignored: the note wins */
    s.segs[0].paddr = 0x1000000;
    s.segs[1].paddr = 0x1004000;
    /* A non-Xen note in the same segment must be skipped, not misread. */
    struct note *gnu = &s.notes[s.nr_notes++];
    *gnu = (struct note){ .type = XEN_ELFNOTE_VIRT_BASE, .name = "GNU", .descsz = 8 };
    memset(gnu->desc, 0x11, 8);
    struct pv_kernel_info info;

    parse_ok(&s, &info);
    assert_true(info.virt_base == VB);
    assert_int_equal(info.paddr_offset, 0);
    assert_true(info.entry == VB + 0x1001000);
    assert_int_equal(info.pstart, 0x1000000);
    assert_int_equal(info.pend, 0x1009000);
    assert_false(info.has_hypercall_page);
    assert_false(info.has_phys32_entry);
    assert_string_equal(info.loader, "");
}

/* The PVH entry: XEN_ELFNOTE_PHYS32_ENTRY, a 32-bit physical address, as Linux carries it. */
static void phys32_entry_note_read(void **state)
{
    (void)state;
    struct spec s = good_spec();
    struct note *n = &s.notes[s.nr_notes++];
    const uint32_t entry = 0x1000040;
    *n = (struct note){ .type = XEN_ELFNOTE_PHYS32_ENTRY, .descsz = 4 };
    memcpy(n->desc, &entry, 4);
    struct pv_kernel_info info;

    parse_ok(&s, &info);
    assert_true(info.has_phys32_entry);
    assert_int_equal(info.phys32_entry, entry);
    assert_true(info.entry == VB + 0x200000);      /* the PV entry is unchanged */
}

/* Note strings are bounded by descsz and by the info buffers, NUL or not. */
static void note_strings_bounded(void **state)
{
    (void)state;
    struct spec s = good_spec();
    del_note(&s, XEN_ELFNOTE_GUEST_OS);
    struct note *n = &s.notes[s.nr_notes++];
    *n = (struct note){ .type = XEN_ELFNOTE_GUEST_OS, .descsz = 50 };
    memset(n->desc, 'g', 50);                    /* no terminator, longer than 31 */
    struct pv_kernel_info info;

    parse_ok(&s, &info);
    assert_int_equal(strlen(info.guest_os), sizeof(info.guest_os) - 1);

    /* XEN_VERSION "xen-3.0" followed by junk inside descsz still counts as xen-3.0,
     * and an embedded NUL ends the string. */
    s = good_spec();
    del_note(&s, XEN_ELFNOTE_LOADER);
    n = &s.notes[s.nr_notes++];
    *n = (struct note){ .type = XEN_ELFNOTE_LOADER, .descsz = 12 };
    memcpy(n->desc, "generic\0junk", 12);
    parse_ok(&s, &info);
    assert_string_equal(info.loader, "generic");
}

struct loaded {
    int n;
    uint64_t pphys[4], filesz[4], memsz[4];
    const uint8_t *src[4];
};

static int record_segment(uint64_t pseudo_phys, const struct image_src *img, uint64_t offset,
                          uint64_t filesz, uint64_t memsz, void *ctx)
{
    struct loaded *l = ctx;
    assert_true(l->n < 4);
    l->pphys[l->n] = pseudo_phys;
    l->src[l->n] = (const uint8_t *)img->mem + offset;
    l->filesz[l->n] = filesz;
    l->memsz[l->n] = memsz;
    l->n++;
    return 0;
}

static void load_hands_out_each_segment(void **state)
{
    (void)state;
    struct spec s = good_spec();
    /* An empty PT_LOAD (memsz 0) is neither loaded nor counted in the span. */
    s.segs[s.nr_segs++] = (struct seg){ PT_LOAD, VB + 0x30000000, 0, 0 };
    size_t size;
    uint8_t *img = build(&s, &size);
    struct pv_kernel_info info;
    const char *why = NULL;
    struct loaded l = { 0 };

    assert_int_equal(parse_mem(img, size, &info, &why), 0);
    assert_int_equal(info.pend, 0x209000);
    struct image_src src = image_in_memory(img, size);
    assert_int_equal(pv_kernel_load(&src, &info, record_segment, &l), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.pphys[0], 0x200000);
    assert_int_equal(l.filesz[0], 0x3000);
    assert_int_equal(l.memsz[0], 0x3000);
    assert_ptr_equal(l.src[0], img + phdr(img, 0)->p_offset);
    assert_int_equal(l.pphys[1], 0x204000);
    assert_int_equal(l.filesz[1], 0x800);
    assert_int_equal(l.memsz[1], 0x5000);
    assert_ptr_equal(l.src[1], img + phdr(img, 1)->p_offset);
    /* The source is the file content the builder wrote. */
    for (uint64_t b = 0; b < 0x800; b++)
        assert_int_equal(l.src[1][b], (uint8_t)(b * 13 + 101 + 7));
    free(img);
}

/* A reader that fails past `limit` bytes, as a guest buffer with a hole does. */
static int read_until_limit(const struct image_src *src, uint64_t off, void *dst, uint64_t n)
{
    if (off + n > src->guest_va)
        return -XEN_EFAULT;
    memcpy(dst, (const uint8_t *)src->mem + off, n);
    return 0;
}

static int failing_segment(uint64_t pseudo_phys, const struct image_src *img, uint64_t offset,
                           uint64_t filesz, uint64_t memsz, void *ctx)
{
    (void)pseudo_phys, (void)img, (void)offset, (void)filesz, (void)memsz;
    ++*(int *)ctx;
    return -XEN_ENOMEM;
}

/* The good image built (malloc'd), its size in *size. */
static uint8_t *good_image(size_t *size)
{
    struct spec s = good_spec();
    return build(&s, size);
}

/* An unreadable byte anywhere the parser looks is -EFAULT, never a guess. */
static void unreadable_image_is_efault(void **state)
{
    (void)state;
    size_t size;
    uint8_t *img = good_image(&size);
    struct pv_kernel_info info;
    const char *why = NULL;
    int faults = 0;

    for (uint64_t limit = 0; limit < size; limit++) {
        struct image_src src = { .read = read_until_limit, .mem = img, .guest_va = limit,
                                 .size = size };
        int rc = pv_kernel_parse(&src, &info, &why);
        assert_true(rc == 0 || rc == -XEN_EFAULT);
        faults += rc == -XEN_EFAULT;
        if (rc == -XEN_EFAULT)
            assert_non_null(strstr(why, "unreadable"));
    }
    assert_true(faults > 0);
    free(img);
}

/* The loader reads the headers again: a segment moved after the parse is refused. */
static void load_rechecks_changed_headers(void **state)
{
    (void)state;
    size_t size;
    uint8_t *img = good_image(&size);
    struct image_src src = image_in_memory(img, size);
    struct pv_kernel_info info;
    struct loaded l = { 0 };
    const char *why = NULL;
    int calls = 0;

    assert_int_equal(pv_kernel_parse(&src, &info, &why), 0);
    assert_int_equal(pv_kernel_load(&src, &info, failing_segment, &calls), -XEN_ENOMEM);
    assert_int_equal(calls, 1); /* stops at the first failure */
    ((Elf64_Phdr *)phdr(img, 1))->p_memsz = 0x40000000;
    assert_int_equal(pv_kernel_load(&src, &info, record_segment, &l), -XEN_EINVAL);
    ((Elf64_Phdr *)phdr(img, 1))->p_memsz = 0x5000;
    ((Elf64_Phdr *)phdr(img, 1))->p_offset = size;
    assert_int_equal(pv_kernel_load(&src, &info, record_segment, &l), -XEN_EINVAL);
    free(img);
}

/* ---- refusals -------------------------------------------------------- */

/* Parses img and checks it is refused with a reason containing fragment. */
static void expect_refused(uint8_t *img, size_t size, const char *fragment)
{
    struct pv_kernel_info info;
    const char *why = NULL;
    int rc = parse_mem(img, size, &info, &why);
    if (rc != -XEN_EINVAL || !why || !strstr(why, fragment))
        fail_msg("expected refusal \"%s\", got rc %d why \"%s\"", fragment, rc,
                 why ? why : "(null)");
    assert_true(strlen(why) > 0);
    free(img);
}

static void refuse_spec(const struct spec *s, const char *fragment)
{
    size_t size;
    uint8_t *img = build(s, &size);
    expect_refused(img, size, fragment);
}

/* One field of the good image set to a value: WIDTH bytes at OFF, little-endian. */
struct field_set {
    size_t off, width;
    uint64_t value;
};

/* The ELF header's FIELD and the program header I's FIELD, as OFF, WIDTH. */
#define EHDR_F(field) offsetof(Elf64_Ehdr, field), sizeof(((Elf64_Ehdr *)0)->field)
#define PHDR_F(i, field) sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr) + \
                         offsetof(Elf64_Phdr, field), sizeof(((Elf64_Phdr *)0)->field)

/* A malformed image: the good one with up to three fields set, cut to LEN
 * bytes (its whole size if 0), refused with a reason holding WHY. */
struct bad_image {
    struct field_set set[3];
    size_t len;
    const char *why;
};

/* Contract: each of the N cases is refused as it says (expect_refused). */
static void refuse_all(const struct bad_image *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t size;
        uint8_t *img = good_image(&size);

        for (size_t k = 0; k < 3 && cases[i].set[k].width; k++)
            memcpy(img + cases[i].set[k].off, &cases[i].set[k].value, cases[i].set[k].width);
        expect_refused(img, cases[i].len ? cases[i].len : size, cases[i].why);
    }
}

static void refuses_bad_headers(void **state)
{
    static const struct bad_image cases[] = {
        { { { 1, 1, 'F' } }, 0, "not an ELF image" },
        { { { 0 } }, sizeof(Elf64_Ehdr) - 1, "not an ELF image" }, /* too short */
        { { { EI_CLASS, 1, ELFCLASS32 } }, 0, "32-bit" },
        { { { EHDR_F(e_machine), EM_386 } }, 0, "not an x86-64" },
        { { { EHDR_F(e_machine), EM_AARCH64 } }, 0, "not an x86-64" },
        { { { EI_DATA, 1, ELFDATA2MSB } }, 0, "not an x86-64" },
        { { { EHDR_F(e_type), ET_REL } }, 0, "not an executable" },
        { { { EHDR_F(e_type), ET_CORE } }, 0, "not an executable" },
    };
    (void)state;
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]));
}

static void refuses_bad_program_headers(void **state)
{
    static const struct bad_image cases[] = {
        { { { EHDR_F(e_phoff), UINT64_MAX - 8 } }, 0, "program headers" },
        { { { EHDR_F(e_phnum), 0xffff } }, 0, "program headers" },
        { { { EHDR_F(e_phnum), 0 } }, 0, "program headers" },
        { { { EHDR_F(e_phentsize), sizeof(Elf64_Phdr) - 8 } }, 0, "program headers" },
        /* The image cut off in the middle of the program headers. */
        { { { 0 } }, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 4, "program headers" },
    };
    size_t size;
    uint8_t *img = good_image(&size);

    (void)state;
    ehdr(img)->e_phoff = size - 10;                 /* headers run off the end */
    expect_refused(img, size, "program headers");
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]));
}

static void refuses_segments_outside_file(void **state)
{
    static const struct bad_image cases[] = {
        /* offset + filesz wraps to 0 */
        { { { PHDR_F(0, p_offset), 0x1000 }, { PHDR_F(0, p_filesz), UINT64_MAX - 0xfff },
            { PHDR_F(0, p_memsz), UINT64_MAX } }, 0, "outside the file" },
        /* The note segment is checked too. */
        { { { PHDR_F(2, p_offset), UINT64_MAX } }, 0, "outside the file" },
    };
    size_t size;
    uint8_t *img;

    (void)state;
    img = good_image(&size);
    phdr(img, 1)->p_offset = size + 1;
    expect_refused(img, size, "outside the file");

    img = good_image(&size);
    phdr(img, 1)->p_filesz = size;                  /* offset + filesz > size */
    phdr(img, 1)->p_memsz = size;
    expect_refused(img, size, "outside the file");

    img = good_image(&size);
    phdr(img, 2)->p_filesz = size;
    expect_refused(img, size, "outside the file");
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]));
}

static void refuses_bad_load_segments(void **state)
{
    (void)state;
    struct spec s = good_spec();
    s.segs[1].memsz = s.segs[1].filesz - 1;
    refuse_spec(&s, "malformed ELF load segment");

    s = good_spec();
    s.segs[1].paddr = 0xfffffffffffff000ull;        /* paddr + memsz wraps */
    refuse_spec(&s, "malformed ELF load segment");

    s = good_spec();
    s.nr_segs = 0;
    refuse_spec(&s, "no loadable");

    s = good_spec();
    s.segs[0].type = PT_DYNAMIC;
    s.segs[1].type = PT_GNU_STACK;
    refuse_spec(&s, "no loadable");

    s = good_spec();                                /* loads, but nothing in memory */
    s.segs[0].filesz = s.segs[0].memsz = 0;
    s.segs[1].filesz = s.segs[1].memsz = 0;
    refuse_spec(&s, "1 GiB");
}

static void refuses_malformed_notes(void **state)
{
    static const struct bad_image cases[] = {
        { { { NOTES_OFF, 4, 0xffffffffu } }, 0, "malformed ELF note" },     /* namesz */
        { { { NOTES_OFF + 4, 4, 0xffffffffu } }, 0, "malformed ELF note" }, /* descsz */
        { { { NOTES_OFF + 4, 4, 0xfffffff0u } }, 0, "malformed ELF note" },
    };
    size_t size;
    uint8_t *img;

    (void)state;
    refuse_all(cases, sizeof(cases) / sizeof(cases[0]));
    /* A note header whose descriptor runs past the segment (not the file). */
    img = good_image(&size);
    phdr(img, 2)->p_filesz -= 4;
    expect_refused(img, size, "malformed ELF note");
}

static void refuses_missing_or_wrong_notes(void **state)
{
    (void)state;
    struct spec s = good_spec();
    s.nr_notes = 0;
    refuse_spec(&s, "no Xen ELF notes");

    s = good_spec();                                /* notes, but none named Xen */
    for (int i = 0; i < s.nr_notes; i++)
        s.notes[i].name = "Xe";
    refuse_spec(&s, "no Xen ELF notes");

    s = good_spec();
    for (int i = 0; i < s.nr_notes; i++)
        s.notes[i].name = "XenX";
    refuse_spec(&s, "no Xen ELF notes");

    s = good_spec();
    del_note(&s, XEN_ELFNOTE_XEN_VERSION);
    refuse_spec(&s, "xen-3.0");

    s = good_spec();
    del_note(&s, XEN_ELFNOTE_XEN_VERSION);
    add_note_str(&s, XEN_ELFNOTE_XEN_VERSION, "xen-2.0");
    refuse_spec(&s, "xen-3.0");

    s = good_spec();
    del_note(&s, XEN_ELFNOTE_XEN_VERSION);
    add_note_str(&s, XEN_ELFNOTE_XEN_VERSION, "xen-3");
    refuse_spec(&s, "xen-3.0");

    s = good_spec();
    del_note(&s, XEN_ELFNOTE_LOADER);
    add_note_str(&s, XEN_ELFNOTE_LOADER, "elfbsd");
    refuse_spec(&s, "unknown loader");

    s = good_spec();                                /* no LOADER, not Linux */
    del_note(&s, XEN_ELFNOTE_LOADER);
    refuse_spec(&s, "unknown loader");

    s = good_spec();                                /* as Xen: PADDR_OFFSET alone */
    del_note(&s, XEN_ELFNOTE_VIRT_BASE);
    refuse_spec(&s, "PADDR_OFFSET note without VIRT_BASE");

    s = good_spec();                                /* an unknown required feature */
    add_note_str(&s, XEN_ELFNOTE_FEATURES, "writable_page_tables|!warp_drive");
    refuse_spec(&s, "FEATURES");
}

/* ---- Xen 4.17 libelf's defaults and features --------------------------- */

/* No VIRT_BASE and no PADDR_OFFSET: both 0, the image at its own addresses. */
static void absent_notes_default_as_xen(void **state)
{
    (void)state;
    struct pv_kernel_info info;
    struct spec s = good_spec();
    del_note(&s, XEN_ELFNOTE_VIRT_BASE);
    del_note(&s, XEN_ELFNOTE_PADDR_OFFSET);
    del_note(&s, XEN_ELFNOTE_HYPERCALL_PAGE);
    s.segs[0].paddr = 0x400000;
    s.segs[1].paddr = 0x404000;
    s.e_entry = 0x400010;
    parse_ok(&s, &info);
    assert_int_equal(info.virt_base, 0);
    assert_int_equal(info.paddr_offset, 0);
    assert_int_equal(info.entry, 0x400010);
    assert_int_equal(info.pstart, 0x400000);

    /* VIRT_BASE without PADDR_OFFSET: PADDR_OFFSET 0 (notes, not __xen_guest). */
    s = good_spec();
    del_note(&s, XEN_ELFNOTE_PADDR_OFFSET);
    s.segs[0].paddr = 0x200000;
    s.segs[1].paddr = 0x204000;
    parse_ok(&s, &info);
    assert_int_equal(info.paddr_offset, 0);
    assert_true(info.virt_base == VB);
    assert_int_equal(info.pstart, 0x200000);
    /* ... so segments placed at virtual addresses no longer fit. */
    s = good_spec();
    del_note(&s, XEN_ELFNOTE_PADDR_OFFSET);
    refuse_spec(&s, "1 GiB");
}

static void features_parsed_as_xen(void **state)
{
    (void)state;
    struct pv_kernel_info info;
    const char *why = NULL;
    struct spec s = good_spec();
    add_note_str(&s, XEN_ELFNOTE_FEATURES,
                 "!writable_page_tables|pae_pgdir_above_4gb||no_such_feature|dom0");
    parse_ok(&s, &info);
    assert_int_equal(info.features_required, 1u << XENFEAT_writable_page_tables);
    assert_int_equal(info.features_supported, (1u << XENFEAT_writable_page_tables) |
                     (1u << XENFEAT_pae_pgdir_above_4gb) | (1u << XENFEAT_dom0));
    assert_false(info.has_supported_features);
    assert_int_equal(pv_kernel_check_domain_kind(&info, true, &why), 0);

    s = good_spec();                                /* SUPPORTED_FEATURES adds its bits */
    struct note *n = &s.notes[s.nr_notes++];
    uint32_t bits = (1u << XENFEAT_dom0) | (1u << XENFEAT_hvm_callback_vector);
    *n = (struct note){ .type = XEN_ELFNOTE_SUPPORTED_FEATURES, .descsz = 4 };
    memcpy(n->desc, &bits, 4);
    parse_ok(&s, &info);
    assert_true(info.has_supported_features);
    assert_int_equal(info.features_supported, bits);
    assert_int_equal(pv_kernel_check_domain_kind(&info, true, &why), 0);

    /* A SUPPORTED_FEATURES note without dom0: not as the initial domain. */
    bits = 1u << XENFEAT_hvm_callback_vector;
    memcpy(n->desc, &bits, 4);
    parse_ok(&s, &info);
    assert_int_equal(pv_kernel_check_domain_kind(&info, false, &why), 0);
    assert_int_equal(pv_kernel_check_domain_kind(&info, true, &why), -XEN_EINVAL);
    assert_non_null(strstr(why, "initial_domain=domU"));

    /* No SUPPORTED_FEATURES note at all: any kind (old kernels). */
    s = good_spec();
    parse_ok(&s, &info);
    assert_int_equal(pv_kernel_check_domain_kind(&info, true, &why), 0);

    /* Requiring supervisor mode: never a PV domain. */
    add_note_str(&s, XEN_ELFNOTE_FEATURES, "!supervisor_mode_kernel");
    parse_ok(&s, &info);
    assert_int_equal(pv_kernel_check_domain_kind(&info, false, &why), -XEN_EINVAL);
    assert_non_null(strstr(why, "supervisor-mode"));
}

static void refuses_entry_outside_image(void **state)
{
    (void)state;
    static const uint64_t bad[] = {
        VB + 0x1ff000,          /* below the first segment */
        VB + 0x209000,          /* one past the end */
        VB + 0x40000000,
        VB - 1,
        0,
        0x200000,               /* the pseudo-physical address, not virtual */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct spec s = good_spec();
        s.e_entry = bad[i];
        refuse_spec(&s, "entry point");
        s = good_spec();
        add_note_u64(&s, XEN_ELFNOTE_ENTRY, bad[i]);
        refuse_spec(&s, "entry point");
    }
    /* The last byte of the image is a valid entry. */
    struct spec s = good_spec();
    s.e_entry = VB + 0x208fff;
    struct pv_kernel_info info;

    parse_ok(&s, &info);
}

static void refuses_bad_hypercall_page(void **state)
{
    (void)state;
    static const uint64_t bad[] = {
        VB + 0x202010,          /* unaligned */
        VB + 0x202ffc,
        VB + 0x209000,          /* just past the image */
        VB + 0x1ff000,          /* just before it */
        0x202000,
        UINT64_MAX & ~0xfffull,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct spec s = good_spec();
        del_note(&s, XEN_ELFNOTE_HYPERCALL_PAGE);
        add_note_u64(&s, XEN_ELFNOTE_HYPERCALL_PAGE, bad[i]);
        refuse_spec(&s, "hypercall page");
    }
    /* The last page of the image (bss) is fine. */
    struct spec s = good_spec();
    del_note(&s, XEN_ELFNOTE_HYPERCALL_PAGE);
    add_note_u64(&s, XEN_ELFNOTE_HYPERCALL_PAGE, VB + 0x208000);
    struct pv_kernel_info info;

    parse_ok(&s, &info);
    assert_true(info.hypercall_page == VB + 0x208000);
}

static void refuses_span_and_placement(void **state)
{
    (void)state;
    struct spec s = good_spec();
    s.segs[1].memsz = 1ull << 30;                   /* ends past 1 GiB */
    refuse_spec(&s, "1 GiB");

    s = good_spec();                                /* two segments 1 GiB apart */
    s.segs[1].paddr = VB + 0x40000000;
    refuse_spec(&s, "1 GiB");

    s = good_spec();                                /* one page too many */
    s.segs[1].paddr = VB + 0x3ffff000;
    s.segs[1].memsz = 0x2000;
    refuse_spec(&s, "1 GiB");

    /* Exactly 1 GiB of span is still fine. */
    s = good_spec();
    s.segs[0].paddr = VB;
    s.segs[1].paddr = VB + 0x3ffff000;
    s.segs[1].memsz = 0x1000;
    s.e_entry = VB;
    del_note(&s, XEN_ELFNOTE_HYPERCALL_PAGE);
    struct pv_kernel_info info;

    parse_ok(&s, &info);
    assert_int_equal(info.pend, 1ull << 30);

    s = good_spec();                                /* below PADDR_OFFSET */
    add_note_u64(&s, XEN_ELFNOTE_PADDR_OFFSET, VB);
    s.segs[0].paddr = 0x200000;
    refuse_spec(&s, "below PADDR_OFFSET");

    s = good_spec();                                /* default offset is VIRT_BASE */
    s.segs[1].paddr = 0x204000;
    refuse_spec(&s, "below PADDR_OFFSET");
}

/* ---- the real test kernels ------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void real_guest_kernels_parse(void **state)
{
    (void)state;
    glob_t g;
    if (glob(UNIT_GUEST_DIR "/*.elf", 0, NULL, &g) != 0) {
        print_message("no kernels in %s (run `make guests`): skipped\n", UNIT_GUEST_DIR);
        skip();
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t size;
        uint8_t *img = read_file(g.gl_pathv[i], &size);
        struct pv_kernel_info info;
        const char *why = NULL;
        int rc = parse_mem(img, size, &info, &why);
        if (rc)
            fail_msg("%s: refused: %s", g.gl_pathv[i], why);
        assert_true(info.pstart < info.pend);
        assert_true(info.entry >= info.virt_base + info.pstart &&
                    info.entry < info.virt_base + info.pend);
        struct loaded l = { 0 };
        struct image_src src = image_in_memory(img, size);
        assert_int_equal(pv_kernel_load(&src, &info, record_segment, &l), 0);
        assert_true(l.n > 0);
        free(img);
    }
    globfree(&g);
}

/* ---- fuzz ------------------------------------------------------------ */

struct fuzz_ctx {
    const uint8_t *img;
    size_t size;
    const struct pv_kernel_info *info;
};

/* For an accepted image, everything the loader is handed must lie inside the file and span. */
static int check_segment(uint64_t pseudo_phys, const struct image_src *img, uint64_t offset,
                         uint64_t filesz, uint64_t memsz, void *ctx)
{
    const struct fuzz_ctx *c = ctx;
    const uint8_t *s = (const uint8_t *)img->mem + offset;
    assert_true(filesz <= memsz);
    assert_true(s >= c->img && s <= c->img + c->size);
    assert_true(filesz <= (uint64_t)(c->img + c->size - s));
    assert_true(pseudo_phys >= c->info->pstart);
    assert_true(pseudo_phys <= c->info->pend && memsz <= c->info->pend - pseudo_phys);
    return 0;
}

static void fuzz_byte_flips(void **state)
{
    (void)state;
    size_t good_size;
    uint8_t *good = good_image(&good_size);
    uint64_t seed = 0x1234567887654321ull;
    unsigned accepted = 0;
    static const uint8_t interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40 };

    for (int iter = 0; iter < 20000; iter++) {
        size_t size = good_size;
        if (unit_rand(&seed) % 8 == 0)
            size = unit_rand(&seed) % (good_size + 1);  /* truncated image */
        uint8_t *img = malloc(size ? size : 1);
        assert_non_null(img);
        memcpy(img, good, size);
        int flips = 1 + (int)(unit_rand(&seed) % 6);
        for (int f = 0; f < flips && size; f++) {
            uint64_t r = unit_rand(&seed);
            /* Mostly the headers and notes, where the parser looks. */
            size_t limit = (r & 3) ? MIN(size, (size_t)DATA_OFF) : size;
            size_t at = (size_t)((r >> 8) % limit);
            img[at] = (r >> 40) & 1 ? interesting[(r >> 41) % sizeof(interesting)]
                                    : (uint8_t)(r >> 48);
        }
        /* Keep e_phoff 8-aligned: a misaligned one is a known bug (see
         * misaligned_phoff_refused) that UBSan would stop the loop on. */
        if (size >= sizeof(Elf64_Ehdr))
            ehdr(img)->e_phoff &= ~7ull;
        struct pv_kernel_info info;
        const char *why = NULL;
        int rc = parse_mem(img, size, &info, &why);
        if (rc) {
            assert_int_equal(rc, -XEN_EINVAL);
            assert_non_null(why);
            assert_true(strlen(why) > 0);
        } else {
            accepted++;
            assert_true(info.pstart < info.pend && info.pend <= (1ull << 30));
            assert_true(info.entry - info.virt_base >= info.pstart &&
                        info.entry - info.virt_base < info.pend);
            struct fuzz_ctx c = { img, size, &info };
            struct image_src src = image_in_memory(img, size);
            assert_int_equal(pv_kernel_load(&src, &info, check_segment, &c), 0);
        }
        free(img);
    }
    /* Most single flips hit padding or data: the loop must exercise both outcomes. */
    assert_true(accepted > 100 && accepted < 20000);
    free(good);
}

/*
 * Regression (fixed; common/elf.c:108-113 check_header, used at elf.c:121 phdr() and
 * elf.c:134): e_phoff is checked against the file size but not for
 * alignment, and the program headers are then read through a
 * const Elf64_Phdr * at img + e_phoff. Input: the good image with e_phoff
 * moved to 65 (headers copied there). Expected: -XEN_EINVAL ("malformed ELF
 * program headers"), or the headers read with memcpy. Actual: misaligned
 * member accesses, undefined behaviour (UBSan: "member access within
 * misaligned address ... for type 'const struct Elf64_Phdr'").
 */
static void misaligned_phoff_refused(void **state)
{
    (void)state;
    size_t size;
    uint8_t *img = good_image(&size);
    memmove(img + 0x41, img + 0x40, 3 * sizeof(Elf64_Phdr));
    ehdr(img)->e_phoff = 0x41;
    struct pv_kernel_info info;
    const char *why = NULL;
    assert_int_equal(parse_mem(img, size, &info, &why), -XEN_EINVAL);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_image_accepted),
        cmocka_unit_test(linux_style_notes_accepted),
        cmocka_unit_test(phys32_entry_note_read),
        cmocka_unit_test(note_strings_bounded),
        cmocka_unit_test(load_hands_out_each_segment),
        cmocka_unit_test(unreadable_image_is_efault),
        cmocka_unit_test(load_rechecks_changed_headers),
        cmocka_unit_test(refuses_bad_headers),
        cmocka_unit_test(refuses_bad_program_headers),
        cmocka_unit_test(refuses_segments_outside_file),
        cmocka_unit_test(refuses_bad_load_segments),
        cmocka_unit_test(refuses_malformed_notes),
        cmocka_unit_test(refuses_missing_or_wrong_notes),
        cmocka_unit_test(absent_notes_default_as_xen),
        cmocka_unit_test(features_parsed_as_xen),
        cmocka_unit_test(refuses_entry_outside_image),
        cmocka_unit_test(refuses_bad_hypercall_page),
        cmocka_unit_test(refuses_span_and_placement),
        cmocka_unit_test(real_guest_kernels_parse),
        cmocka_unit_test(fuzz_byte_flips),
        cmocka_unit_test(misaligned_phoff_refused),
    };
    return UNIT_RUN("elf", tests);
}
