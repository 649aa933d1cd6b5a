/*
 * Multiboot1 and multiboot2 information parsing into struct boot_info.
 *
 * The loader's structures are read through a caller-supplied translation, so
 * the same code runs in the hypervisor (through the direct map) and in host
 * unit tests (over buffers). Only RAM ("available") ranges are kept; every
 * string is copied and truncated to the table's size, and each module's
 * command line loses its first word (the file name the loader puts there).
 * The multiboot2 ACPI tags give the RSDP for the MADT search (UEFI machines
 * have none in the BIOS areas; GRUB hands over a copy of it): its address and
 * a copy of its bytes are kept, the copy because the loader's lies in RAM
 * that domains get, zeroed, before the MADT is read.
 */
#include "pvkit/bootinfo.h"
#include "pvkit/xenabi.h"

#define MB1_INFO_CMDLINE    (1u << 2)
#define MB1_INFO_MODS       (1u << 3)
#define MB1_INFO_MMAP       (1u << 6)
#define MB_MEMORY_AVAILABLE 1

struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb1_module {
    uint32_t mod_start, mod_end, string, reserved;
};

struct mb1_mmap_entry {
    uint32_t size; /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE  3
#define MB2_TAG_MMAP    6
#define MB2_TAG_ACPI_OLD 14     /* payload: a copy of the RSDP, ACPI 1.0 (20 bytes) */
#define MB2_TAG_ACPI_NEW 15     /* payload: a copy of the RSDP, ACPI 2.0+ (36 bytes) */
#define RSDP_V1_LEN     20
#define RSDP_V2_LEN     BOOT_RSDP_LEN

struct mb2_tag {
    uint32_t type, size;
};

struct mb2_mmap_entry {
    uint64_t addr, len;
    uint32_t type, reserved;
};

static void add_ram(struct boot_info *bi, uint64_t addr, uint64_t len)
{
    if (!len || addr + len < addr || bi->nr_ram == BOOT_MAX_RAM_RANGES)
        return;
    bi->ram[bi->nr_ram].start = addr;
    bi->ram[bi->nr_ram].end = addr + len;
    bi->nr_ram++;
}

/* Records one firmware memory-map entry (and, if it is RAM, the range). */
static void add_map_entry(struct boot_info *bi, uint64_t addr, uint64_t len, uint32_t type)
{
    if (type == MB_MEMORY_AVAILABLE)
        add_ram(bi, addr, len);
    if (!len || bi->nr_map == BOOT_MAX_MAP_ENTRIES)
        return;
    bi->map[bi->nr_map++] = (struct map_entry){ addr, len, type };
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end,
                       const char *cmdline)
{
    if (end <= start || bi->nr_modules == BOOT_MAX_MODULES)
        return;
    struct boot_module *m = &bi->modules[bi->nr_modules++];
    m->start = start;
    m->end = end;
    strlcpy(m->cmdline, cmdline ? cmdline_skip_first_word(cmdline) : "",
            sizeof(m->cmdline));
}

/* A loader string, or "" when the loader gave a null address. */
static const char *read_string(phys_reader_fn read, uint64_t phys)
{
    return phys ? read(phys) : "";
}

static int parse_mb1(uint64_t info_phys, phys_reader_fn read, struct boot_info *bi)
{
    const struct mb1_info *mbi = read(info_phys);

    bi->loader = "multiboot1";
    if (mbi->flags & MB1_INFO_CMDLINE)
        strlcpy(bi->cmdline, read_string(read, mbi->cmdline), sizeof(bi->cmdline));
    if (!(mbi->flags & MB1_INFO_MMAP))
        return -XEN_EINVAL;
    for (uint64_t off = 0; off + sizeof(struct mb1_mmap_entry) <= mbi->mmap_length;) {
        const struct mb1_mmap_entry *e = read(mbi->mmap_addr + off);
        if (e->size < sizeof(*e) - sizeof(e->size))
            break; /* malformed: an entry smaller than its own fields */
        add_map_entry(bi, e->addr, e->len, e->type);
        off += (uint64_t)e->size + sizeof(e->size);
    }
    if (mbi->flags & MB1_INFO_MODS) {
        for (uint32_t i = 0; i < mbi->mods_count; i++) {
            const struct mb1_module *m = read(mbi->mods_addr + i * sizeof(*m));
            add_module(bi, m->mod_start, m->mod_end, read_string(read, m->string));
        }
    }
    return 0;
}

static void parse_mb2_mmap(const struct mb2_tag *tag, struct boot_info *bi)
{
    const uint32_t *hdr = (const uint32_t *)(tag + 1); /* entry_size, version */
    if (tag->size < sizeof(*tag) + 8)
        return;
    uint32_t entry_size = hdr[0];
    const uint8_t *p = (const uint8_t *)(hdr + 2);
    const uint8_t *end = (const uint8_t *)tag + tag->size;

    if (entry_size < sizeof(struct mb2_mmap_entry))
        return;
    for (; p + entry_size <= end; p += entry_size) {
        const struct mb2_mmap_entry *e = (const void *)p;
        add_map_entry(bi, e->addr, e->len, e->type);
    }
}

/* Does an ACPI tag hold a whole RSDP of its kind? A shorter one is ignored. */
static bool mb2_rsdp_fits(const struct mb2_tag *tag, uint32_t rsdp_len)
{
    return tag->size >= sizeof(*tag) + rsdp_len;
}

/* Records the RSDP in an ACPI tag at tag_phys: its address and a copy of it. */
static void mb2_take_rsdp(uint64_t tag_phys, const struct mb2_tag *tag, struct boot_info *bi)
{
    size_t len = MIN((size_t)tag->size - sizeof(*tag), sizeof(bi->rsdp));

    bi->rsdp_phys = tag_phys + sizeof(*tag);
    memcpy(bi->rsdp, tag + 1, len);
}

static int parse_mb2(uint64_t info_phys, phys_reader_fn read, struct boot_info *bi)
{
    const uint32_t *total = read(info_phys);
    bool have_mmap = false;
    uint64_t rsdp_old = 0, rsdp_new = 0; /* offsets of usable ACPI tags; 0: none */

    bi->loader = "multiboot2";
    for (uint64_t off = 8; off + sizeof(struct mb2_tag) <= *total;) {
        const struct mb2_tag *tag = read(info_phys + off);
        if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag) || tag->size > *total - off)
            break; /* a tag running past the structure ends the walk */
        switch (tag->type) {
        case MB2_TAG_CMDLINE:
            strlcpy(bi->cmdline, (const char *)(tag + 1), sizeof(bi->cmdline));
            break;
        case MB2_TAG_MODULE: {
            const uint32_t *mod = (const uint32_t *)(tag + 1);
            add_module(bi, mod[0], mod[1], (const char *)(mod + 2));
            break;
        }
        case MB2_TAG_MMAP:
            parse_mb2_mmap(tag, bi);
            have_mmap = true;
            break;
        case MB2_TAG_ACPI_OLD:
            if (!rsdp_old && mb2_rsdp_fits(tag, RSDP_V1_LEN))
                rsdp_old = off;
            break;
        case MB2_TAG_ACPI_NEW:
            if (!rsdp_new && mb2_rsdp_fits(tag, RSDP_V2_LEN))
                rsdp_new = off;
            break;
        }
        off += ALIGN_UP((uint64_t)tag->size, 8);
    }
    /* The new RSDP is preferred: only it can point to the XSDT. */
    if (rsdp_new || rsdp_old) {
        uint64_t at = info_phys + (rsdp_new ? rsdp_new : rsdp_old);
        mb2_take_rsdp(at, read(at), bi);
    }
    return have_mmap ? 0 : -XEN_EINVAL;
}

int multiboot_parse(uint32_t magic, uint64_t info_phys, phys_reader_fn read,
                    struct boot_info *out)
{
    memset(out, 0, sizeof(*out));
    if (magic == MULTIBOOT1_LOADER_MAGIC)
        return parse_mb1(info_phys, read, out);
    if (magic == MULTIBOOT2_LOADER_MAGIC)
        return parse_mb2(info_phys, read, out);
    return -XEN_EINVAL;
}
