/*
 * Tests hypervisor/common/multiboot.c: turning the boot loader's multiboot1
 * (QEMU -kernel) or multiboot2 (GRUB) information into struct boot_info. The
 * hypervisor's whole idea of RAM and of the dom0 kernel comes from here, so
 * the tests check that only available RAM survives, module command lines lose
 * the loader's file name, tables are capped instead of overflowed, a missing
 * memory map or unknown magic is an error, and a malformed multiboot2 tag
 * list stops the walk instead of running off the structure. The ACPI RSDP
 * tags (14: old, 15: new) give the RSDP the MADT search starts from, so the
 * tests check the address and copy taken, that 15 wins over 14, that a tag
 * too short for its RSDP is ignored, and that multiboot1 gives none.
 *
 * The "physical memory" is a buffer: physical address P maps to buffer
 * offset P - PHYS_BASE. Each test builds the loader's structures there by
 * hand. The reader refuses addresses outside the buffer, and tests that
 * probe the end of a structure copy it into an allocation of exactly its
 * size, so ASan reports any read past it.
 */
#include <string.h>
#include "unit.h"
#include "pvkit/bootinfo.h"
#include "pvkit/xenabi.h"

#define PHYS_BASE 0x10000u
#define MEM_SIZE  0x10000u

static uint8_t *mem;           /* the fake physical memory */
static size_t mem_size;
static struct boot_info bi;

static const void *reader(uint64_t phys)
{
    assert_true(phys >= PHYS_BASE && phys < PHYS_BASE + mem_size);
    return mem + (phys - PHYS_BASE);
}

static int setup(void **state)
{
    (void)state;
    mem_size = MEM_SIZE;
    mem = calloc(1, mem_size);
    memset(&bi, 0xa5, sizeof(bi)); /* multiboot_parse must clear everything */
    return mem ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(mem);
    mem = NULL;
    return 0;
}

/* An expected RAM range or module: [start, end), and a module's command line. */
struct want {
    uint64_t start, end;
    const char *cmdline;
};

/*
 * Checks that bi, as multiboot_parse left it, names loader and cmdline and
 * holds exactly the nr_ram RAM ranges ram and the nr_mods modules mods.
 */
static void expect_boot_info(const char *loader, const char *cmdline, const struct want *ram,
                             size_t nr_ram, const struct want *mods, size_t nr_mods)
{
    assert_string_equal(bi.loader, loader);
    assert_string_equal(bi.cmdline, cmdline);
    assert_int_equal(bi.nr_ram, nr_ram);
    for (size_t i = 0; i < nr_ram; i++) {
        assert_true(bi.ram[i].start == ram[i].start);
        assert_true(bi.ram[i].end == ram[i].end);
    }
    assert_int_equal(bi.nr_modules, nr_mods);
    for (size_t i = 0; i < nr_mods; i++) {
        assert_true(bi.modules[i].start == mods[i].start);
        assert_true(bi.modules[i].end == mods[i].end);
        assert_string_equal(bi.modules[i].cmdline, mods[i].cmdline);
    }
}

static void put32(uint32_t off, uint32_t v) { memcpy(mem + off, &v, 4); }
static void put64(uint32_t off, uint64_t v) { memcpy(mem + off, &v, 8); }
static uint32_t put_str(uint32_t off, const char *s)
{
    memcpy(mem + off, s, strlen(s) + 1);
    return PHYS_BASE + off;
}

/* ---- multiboot1 ------------------------------------------------------ */

#define MB1_CMDLINE (1u << 2)
#define MB1_MODS    (1u << 3)
#define MB1_MMAP    (1u << 6)
#define MB1_INFO    0x0       /* offsets in mem */
#define MB1_MMAP_AT 0x100
#define MB1_MODS_AT 0x800
#define MB1_STRINGS 0x1000

/* Offsets of the multiboot1 info fields used here (multiboot spec, section 3.3). */
enum { MB1_FLAGS = 0, MB1_CMDLINE_F = 16, MB1_MODS_COUNT = 20, MB1_MODS_ADDR = 24,
       MB1_MMAP_LENGTH = 44, MB1_MMAP_ADDR = 48 };

static uint32_t mb1_mmap_len;

/* Appends one mmap entry (size field 20: the entry without the size itself). */
static void mb1_add_mmap(uint64_t addr, uint64_t len, uint32_t type)
{
    uint32_t off = MB1_MMAP_AT + mb1_mmap_len;
    put32(off, 20);
    put64(off + 4, addr);
    put64(off + 12, len);
    put32(off + 20, type);
    mb1_mmap_len += 24;
}

static void mb1_finish(uint32_t flags, const char *cmdline, uint32_t nr_mods)
{
    put32(MB1_INFO + MB1_FLAGS, flags);
    if (cmdline)
        put32(MB1_INFO + MB1_CMDLINE_F, put_str(MB1_STRINGS, cmdline));
    put32(MB1_INFO + MB1_MODS_COUNT, nr_mods);
    put32(MB1_INFO + MB1_MODS_ADDR, PHYS_BASE + MB1_MODS_AT);
    put32(MB1_INFO + MB1_MMAP_LENGTH, mb1_mmap_len);
    put32(MB1_INFO + MB1_MMAP_ADDR, PHYS_BASE + MB1_MMAP_AT);
}

static void mb1_set_module(uint32_t i, uint32_t start, uint32_t end, const char *cmdline)
{
    uint32_t off = MB1_MODS_AT + i * 16;
    put32(off, start);
    put32(off + 4, end);
    put32(off + 8, cmdline ? put_str(MB1_STRINGS + 0x400 + i * 0x100, cmdline) : 0);
    put32(off + 12, 0);
}

static int mb1_setup(void **state)
{
    mb1_mmap_len = 0;
    return setup(state);
}

static void mb1_qemu_style(void **state)
{
    (void)state;
    mb1_add_mmap(0, 0x9fc00, 1);
    mb1_add_mmap(0x9fc00, 0x400, 2);
    mb1_add_mmap(0xf0000, 0x10000, 2);
    mb1_add_mmap(0x100000, 0x7ee0000, 1);
    mb1_add_mmap(0x7fe0000, 0x20000, 3); /* ACPI reclaimable: not plain RAM */
    mb1_add_mmap(0x100000000ull, 0x40000000, 1);
    mb1_set_module(0, 0x200000, 0x300000, "/tmp/vmlinuz console=hvc0 earlyprintk=xen");
    mb1_set_module(1, 0x300000, 0x380000, "/tmp/initrd.img");
    mb1_finish(MB1_CMDLINE | MB1_MODS | MB1_MMAP, "pvkit.elf console=com1 loglvl=debug", 2);

    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    /* The hypervisor's own cmdline is copied whole; main.c drops the file name. */
    static const struct want ram[] = {
        { 0, 0x9fc00, NULL }, { 0x100000, 0x7fe0000, NULL }, { 0x100000000ull, 0x140000000ull, NULL },
    };
    static const struct want mods[] = {
        { 0x200000, 0x300000, "console=hvc0 earlyprintk=xen" }, { 0x300000, 0x380000, "" },
    };
    expect_boot_info("multiboot1", "pvkit.elf console=com1 loglvl=debug", ram, 3, mods, 2);
}

static void mb1_without_mmap_is_refused(void **state)
{
    (void)state;
    mb1_add_mmap(0, 0x100000, 1);
    mb1_finish(MB1_CMDLINE | MB1_MODS, "x", 0);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi),
                     -XEN_EINVAL);
    assert_int_equal(bi.nr_ram, 0);
}

static void mb1_flags_gate_optional_fields(void **state)
{
    (void)state;
    mb1_add_mmap(0x100000, 0x100000, 1);
    mb1_set_module(0, 0x200000, 0x300000, "k a");
    /* Module and cmdline data are present but their flags are clear. */
    mb1_finish(MB1_MMAP, "ignored", 1);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_string_equal(bi.cmdline, "");
    assert_int_equal(bi.nr_modules, 0);
    assert_int_equal(bi.nr_ram, 1);
}

static void mb1_drops_empty_and_wrapping_ranges(void **state)
{
    (void)state;
    mb1_add_mmap(0x1000, 0, 1);                              /* empty */
    mb1_add_mmap(0xfffffffffffff000ull, 0x2000, 1);          /* wraps */
    mb1_add_mmap(0xfffffffffffff000ull, 0x1000, 1);          /* ends exactly at 2^64 */
    mb1_add_mmap(0x100000, 0x1000, 1);
    mb1_set_module(0, 0x300000, 0x300000, "empty module");  /* end == start */
    mb1_set_module(1, 0x400000, 0x300000, "backwards");     /* end < start */
    mb1_set_module(2, 0x500000, 0x501000, "ok x");
    mb1_finish(MB1_MMAP | MB1_MODS, NULL, 3);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_int_equal(bi.nr_ram, 1);
    assert_int_equal(bi.ram[0].start, 0x100000);
    assert_int_equal(bi.nr_modules, 1);
    assert_string_equal(bi.modules[0].cmdline, "x");
}

/* Entries may be larger than 20 bytes; the walk must use each entry's size field. */
static void mb1_honours_entry_size(void **state)
{
    (void)state;
    uint32_t off = MB1_MMAP_AT;
    for (int i = 0; i < 3; i++) {
        put32(off, 28);                  /* 8 bytes of vendor padding */
        put64(off + 4, 0x100000ull * (i + 1));
        put64(off + 12, 0x1000);
        put32(off + 20, 1);
        put64(off + 24, 0x0101010101010101ull); /* padding that looks like an entry */
        off += 32;
    }
    mb1_mmap_len = off - MB1_MMAP_AT;
    mb1_finish(MB1_MMAP, NULL, 0);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_int_equal(bi.nr_ram, 3);
    assert_int_equal(bi.ram[2].start, 0x300000);
}

static void mb1_caps_ranges_and_modules(void **state)
{
    (void)state;
    for (int i = 0; i < BOOT_MAX_RAM_RANGES + 10; i++)
        mb1_add_mmap(0x100000ull * (i + 1), 0x1000, 1);
    for (uint32_t i = 0; i < BOOT_MAX_MODULES + 4; i++)
        mb1_set_module(i, 0x10000000 + i * 0x1000, 0x10000000 + (i + 1) * 0x1000, NULL);
    mb1_finish(MB1_MMAP | MB1_MODS, NULL, BOOT_MAX_MODULES + 4);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_int_equal(bi.nr_ram, BOOT_MAX_RAM_RANGES);
    assert_true(bi.ram[BOOT_MAX_RAM_RANGES - 1].start == 0x100000ull * BOOT_MAX_RAM_RANGES);
    assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);
    assert_int_equal(bi.modules[BOOT_MAX_MODULES - 1].start,
                     0x10000000 + (BOOT_MAX_MODULES - 1) * 0x1000);
}

static void mb1_long_cmdlines_truncated(void **state)
{
    (void)state;
    char *long_line = malloc(3000);
    assert_non_null(long_line);
    memset(long_line, 'a', 2999);
    long_line[2999] = 0;
    long_line[4] = ' ';            /* first word "aaaa" */
    mb1_add_mmap(0x100000, 0x1000, 1);
    uint32_t s = put_str(0x4000, long_line);
    mb1_finish(MB1_MMAP | MB1_MODS | MB1_CMDLINE, NULL, 1);
    put32(MB1_INFO + MB1_CMDLINE_F, s);
    put32(MB1_MODS_AT, 0x200000);
    put32(MB1_MODS_AT + 4, 0x201000);
    put32(MB1_MODS_AT + 8, s);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    assert_memory_equal(bi.cmdline, long_line, BOOT_CMDLINE_MAX - 1);
    assert_int_equal(strlen(bi.modules[0].cmdline), BOOT_CMDLINE_MAX - 1);
    assert_memory_equal(bi.modules[0].cmdline, long_line + 5, BOOT_CMDLINE_MAX - 1);
    free(long_line);
}

/*
 * Regression (fixed; multiboot.c:81): with MB1_INFO_CMDLINE set and the cmdline
 * address 0, read_string() returns NULL (its convention for "no string",
 * which add_module() handles) and parse_mb1() passes it to strlcpy(), which
 * dereferences it. Expected: an empty command line. Actual: NULL dereference.
 */
static void mb1_cmdline_flag_with_null_address(void **state)
{
    (void)state;
    mb1_add_mmap(0x100000, 0x1000, 1);
    mb1_finish(MB1_MMAP | MB1_CMDLINE, NULL, 0);
    put32(MB1_INFO + MB1_CMDLINE_F, 0);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_string_equal(bi.cmdline, "");
}

/*
 * Regression (fixed; multiboot.c:88, parse_mb1): the walk advances with
 * off += e->size + 4 in 32 bits and never checks the step against
 * mmap_length. Input: a 48-byte map whose first entry has size 0xFFFFFFFC.
 * Expected: the walk stops (the entry runs past the map). Actual: off wraps
 * back to 0 and the loop never ends (this test exits via an alarm).
 */
static void mb1_mmap_entry_size_wraps(void **state)
{
    (void)state;
    mb1_add_mmap(0x100000, 0x1000, 1);
    mb1_add_mmap(0x200000, 0x1000, 1);
    put32(MB1_MMAP_AT, 0xfffffffcu);
    mb1_finish(MB1_MMAP, NULL, 0);
    unit_watchdog(2, "mb1_mmap_entry_size_wraps: parse did not terminate\n");
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    unit_watchdog(0, "");
    assert_true(bi.nr_ram <= 1);
}

/* ---- multiboot2 ------------------------------------------------------ */

static uint32_t mb2_off; /* next free offset in mem, 8-aligned */

static int mb2_setup(void **state)
{
    mb2_off = 8;
    return setup(state);
}

/* Starts a tag of the given type; returns its offset. The caller fills the payload. */
static uint32_t mb2_tag(uint32_t type, uint32_t size)
{
    uint32_t off = mb2_off;
    put32(off, type);
    put32(off + 4, size);
    mb2_off += (size + 7) & ~7u;
    return off;
}

static void mb2_cmdline(uint32_t type, const char *s)
{
    uint32_t off = mb2_tag(type, 8 + (uint32_t)strlen(s) + 1);
    memcpy(mem + off + 8, s, strlen(s) + 1);
}

static void mb2_module(uint32_t start, uint32_t end, const char *s)
{
    uint32_t off = mb2_tag(3, 16 + (uint32_t)strlen(s) + 1);
    put32(off + 8, start);
    put32(off + 12, end);
    memcpy(mem + off + 16, s, strlen(s) + 1);
}

struct mb2_range { uint64_t addr, len; uint32_t type; };

static void mb2_mmap(const struct mb2_range *r, size_t n, uint32_t entry_size)
{
    uint32_t off = mb2_tag(6, 16 + (uint32_t)n * entry_size);
    put32(off + 8, entry_size);
    put32(off + 12, 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t e = off + 16 + (uint32_t)i * entry_size;
        put64(e, r[i].addr);
        put64(e + 8, r[i].len);
        put32(e + 16, r[i].type);
        put32(e + 20, 0);
    }
}

static void mb2_end(void)
{
    mb2_tag(0, 8);
    put32(0, mb2_off); /* total_size */
    put32(4, 0);
}

static int parse2(void)
{
    return multiboot_parse(MULTIBOOT2_LOADER_MAGIC, PHYS_BASE, reader, &bi);
}

static void mb2_grub_style(void **state)
{
    (void)state;
    static const struct mb2_range r[] = {
        { 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0x100000, 0x3ff00000, 1 },
        { 0x3ff00000, 0x100000, 4 }, { 0xfffc0000, 0x40000, 2 },
    };
    mb2_cmdline(2, "GRUB 2.06");            /* boot loader name: ignored */
    mb2_cmdline(1, "console=com1 dom0_mem=512M");
    mb2_module(0x1000000, 0x1800000, "placeholder root=/dev/xvda1 ro");
    mb2_module(0x1800000, 0x2000000, "initrd");
    mb2_mmap(r, 5, 24);
    mb2_end();
    assert_int_equal(parse2(), 0);
    static const struct want ram[] = { { 0, 0x9fc00, NULL }, { 0x100000, 0x40000000, NULL } };
    static const struct want mods[] = {
        { 0x1000000, 0x1800000, "root=/dev/xvda1 ro" }, { 0x1800000, 0x2000000, "" },
    };
    expect_boot_info("multiboot2", "console=com1 dom0_mem=512M", ram, 2, mods, 2);
}

static void mb2_larger_mmap_entries(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 }, { 0x200000, 0x1000, 2 },
                                          { 0x300000, 0x1000, 1 } };
    mb2_mmap(r, 3, 40);
    mb2_end();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_ram, 2);
    assert_int_equal(bi.ram[1].start, 0x300000);
}

static void mb2_too_small_mmap_entries_ignored(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_mmap(r, 1, 24);
    put32(8 + 8, 16); /* entry_size smaller than an entry: nothing can be read */
    mb2_end();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_ram, 0);
}

static void mb2_without_mmap_is_refused(void **state)
{
    (void)state;
    mb2_cmdline(1, "console=com1");
    mb2_end();
    assert_int_equal(parse2(), -XEN_EINVAL);
    assert_string_equal(bi.cmdline, "console=com1");
}

static void mb2_caps_ranges_and_modules(void **state)
{
    (void)state;
    struct mb2_range r[BOOT_MAX_RAM_RANGES + 8];
    for (size_t i = 0; i < BOOT_MAX_RAM_RANGES + 8; i++)
        r[i] = (struct mb2_range){ 0x100000ull * (i + 1), 0x1000, 1 };
    mb2_mmap(r, BOOT_MAX_RAM_RANGES + 8, 24);
    for (uint32_t i = 0; i < BOOT_MAX_MODULES + 3; i++)
        mb2_module(0x8000000 + i * 0x1000, 0x8001000 + i * 0x1000, "m a");
    mb2_end();
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_ram, BOOT_MAX_RAM_RANGES);
    assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);
    assert_string_equal(bi.modules[BOOT_MAX_MODULES - 1].cmdline, "a");
}

/* Tags after the end tag, or after total_size, are not read. */
static void mb2_stops_at_end_tag_and_total_size(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_mmap(r, 1, 24);
    mb2_end();
    uint32_t total = mb2_off;
    mb2_cmdline(1, "after the end tag");
    assert_int_equal(parse2(), 0);
    assert_string_equal(bi.cmdline, "");

    /* Now no end tag, but total_size ends before the cmdline tag. */
    put32(total - 8, 99);           /* turn the end tag into an unknown tag */
    put32(0, total);
    assert_int_equal(parse2(), 0);
    assert_string_equal(bi.cmdline, "");
    assert_int_equal(bi.nr_ram, 1);
}

/* A tag whose size is below the 8-byte header would loop forever or go backwards. */
static void mb2_zero_size_tag_stops(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_cmdline(1, "before");
    mb2_tag(7, 0);              /* advances mb2_off by 0: patch the size below */
    uint32_t bad = mb2_off;
    mb2_off += 8;
    put32(bad, 7);
    put32(bad + 4, 0);
    mb2_mmap(r, 1, 24);
    mb2_end();
    assert_int_equal(parse2(), -XEN_EINVAL); /* the mmap after it is never reached */
    assert_string_equal(bi.cmdline, "before");

    put32(bad + 4, 4);
    assert_int_equal(parse2(), -XEN_EINVAL);
    assert_string_equal(bi.cmdline, "before");
}

/* The structure copied to an allocation of exactly total_size bytes. */
static void use_exact_copy(uint32_t total)
{
    uint8_t *exact = malloc(total);
    assert_non_null(exact);
    memcpy(exact, mem, total);
    free(mem);
    mem = exact;
    mem_size = total;
}

static void mb2_last_tag_fills_total_size(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_cmdline(1, "abc");
    mb2_mmap(r, 1, 24);
    put32(0, mb2_off);          /* no end tag: the mmap tag ends the structure */
    use_exact_copy(mb2_off);
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.nr_ram, 1);
    assert_string_equal(bi.cmdline, "abc");
}

/*
 * Regression (fixed; multiboot.c:121-136 and 101-106, parse_mb2/parse_mb2_mmap): a tag is
 * trusted as soon as its 8-byte header fits in total_size; its payload is
 * read up to tag->size without checking that against total_size. Input: a
 * multiboot2 structure whose total_size ends right after an mmap tag's
 * header while the tag claims 40 bytes. Expected: the truncated tag is
 * ignored (-XEN_EINVAL, no memory map). Actual: parse_mb2_mmap reads
 * entry_size and the entry past the end of the structure (ASan:
 * heap-buffer-overflow).
 */
static void mb2_truncated_tag_stops(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_mmap(r, 1, 24);
    put32(0, 16);               /* total_size: the header and the tag's header only */
    use_exact_copy(16);
    assert_int_equal(parse2(), -XEN_EINVAL);
    assert_int_equal(bi.nr_ram, 0);
}

/* ---- multiboot2 ACPI RSDP tags ---------------------------------------- */

#define MB2_ACPI_OLD 14     /* payload: a copy of the ACPI 1.0 RSDP, 20 bytes */
#define MB2_ACPI_NEW 15     /* payload: a copy of the ACPI 2.0+ RSDP, 36 bytes */

/* Payload byte i of an ACPI tag of the given type: tells the two kinds apart. */
static uint8_t rsdp_byte(uint32_t type, uint32_t i)
{
    return (uint8_t)(type << 4 ^ (i + 1));
}

/* Appends an ACPI tag with a payload of len bytes; returns the payload's physical address. */
static uint64_t mb2_acpi(uint32_t type, uint32_t len)
{
    uint32_t off = mb2_tag(type, 8 + len);
    for (uint32_t i = 0; i < len; i++)
        mem[off + 8 + i] = rsdp_byte(type, i);
    return PHYS_BASE + off + 8;
}

/* bi.rsdp holds the first len payload bytes of a tag of this type, zeros after. */
static void assert_rsdp_copy(uint32_t type, uint32_t len)
{
    for (uint32_t i = 0; i < BOOT_RSDP_LEN; i++)
        assert_int_equal(bi.rsdp[i], i < len ? rsdp_byte(type, i) : 0);
}

/* Parses the multiboot2 buffer: accepted, its RSDP found at phys (0: none)
 * and bi.rsdp as assert_rsdp_copy(type, len) says. */
static void assert_parse_rsdp(uint64_t phys, uint32_t type, uint32_t len)
{
    assert_int_equal(parse2(), 0);
    assert_int_equal(bi.rsdp_phys, phys);
    assert_rsdp_copy(type, len);
}

/* Ends the buffer with the tag at tag whose payload is len bytes, the
 * buffer an allocation of exactly its size (a read past it: ASan). */
static void mb2_end_after_short_tag(uint32_t tag, uint32_t len)
{
    put32(0, tag + 8 + len);
    use_exact_copy(tag + 8 + len);
}

/* Empties the buffer for a second multiboot2 structure. */
static void mb2_restart(void)
{
    memset(mem, 0, mem_size);
    mb2_off = 8;
}

static const struct mb2_range one_range[] = { { 0x100000, 0x1000, 1 } };

static void mb2_acpi_old_only(void **state)
{
    (void)state;
    mb2_mmap(one_range, 1, 24);
    uint64_t rsdp = mb2_acpi(MB2_ACPI_OLD, 20);
    mb2_acpi(MB2_ACPI_OLD, 20);         /* a second one: the first is kept */
    mb2_cmdline(1, "after");
    mb2_end();
    assert_parse_rsdp(rsdp, MB2_ACPI_OLD, 20);
    assert_string_equal(bi.cmdline, "after"); /* the walk goes on past it */
}

static void mb2_acpi_new_only(void **state)
{
    (void)state;
    uint64_t rsdp = mb2_acpi(MB2_ACPI_NEW, 36);
    mb2_mmap(one_range, 1, 24);
    mb2_acpi(MB2_ACPI_NEW, 36);         /* a second one: the first is kept */
    mb2_end();
    assert_parse_rsdp(rsdp, MB2_ACPI_NEW, 36);
    assert_int_equal(bi.nr_ram, 1);
}

/* GRUB on UEFI gives both (old first); the new one wins, wherever it is. */
static void mb2_acpi_new_wins_over_old(void **state)
{
    (void)state;
    mb2_mmap(one_range, 1, 24);
    mb2_acpi(MB2_ACPI_OLD, 20);
    uint64_t rsdp = mb2_acpi(MB2_ACPI_NEW, 36);
    mb2_acpi(MB2_ACPI_OLD, 20);
    mb2_end();
    assert_parse_rsdp(rsdp, MB2_ACPI_NEW, 36);

    /* Start over with the new tag first. */
    mb2_restart();
    rsdp = mb2_acpi(MB2_ACPI_NEW, 36);
    mb2_acpi(MB2_ACPI_OLD, 20);
    mb2_mmap(one_range, 1, 24);
    mb2_end();
    assert_parse_rsdp(rsdp, MB2_ACPI_NEW, 36);
}

/*
 * A tag too short for the whole RSDP of its kind is ignored. Each short tag
 * ends the structure and lies in an allocation of exactly its size, so a
 * copy of the RSDP's full length would be an ASan report.
 */
static void mb2_acpi_truncated_tag_ignored(void **state)
{
    (void)state;
    mb2_mmap(one_range, 1, 24);
    uint32_t tag = mb2_off;
    mb2_acpi(MB2_ACPI_OLD, 19);
    mb2_end_after_short_tag(tag, 19);     /* total_size: the short tag is the last byte */
    assert_parse_rsdp(0, MB2_ACPI_OLD, 0);
}

/* A new tag that holds only a v1 RSDP (20 of 36 bytes) is ignored: the old one is used. */
static void mb2_acpi_truncated_new_falls_back_to_old(void **state)
{
    (void)state;
    mb2_mmap(one_range, 1, 24);
    uint64_t rsdp = mb2_acpi(MB2_ACPI_OLD, 20);
    uint32_t tag = mb2_off;
    mb2_acpi(MB2_ACPI_NEW, 35);
    mb2_end_after_short_tag(tag, 35);
    assert_parse_rsdp(rsdp, MB2_ACPI_OLD, 20);
}

/* No ACPI tag, and multiboot1 (which has none): 0, and the copy is cleared. */
static void no_acpi_tag_gives_no_rsdp(void **state)
{
    (void)state;
    mb2_mmap(one_range, 1, 24);
    mb2_cmdline(1, "x");
    mb2_end();
    assert_parse_rsdp(0, MB2_ACPI_OLD, 0);

    /* The same buffer read as multiboot1, after an mb2 parse that found an RSDP. */
    mb2_restart();
    mb2_mmap(one_range, 1, 24);
    mb2_acpi(MB2_ACPI_NEW, 36);
    mb2_end();
    assert_int_equal(parse2(), 0);
    assert_int_not_equal(bi.rsdp_phys, 0);
    memset(mem, 0, mem_size);
    mb1_mmap_len = 0;
    mb1_add_mmap(0x100000, 0x1000, 1);
    mb1_finish(MB1_MMAP, NULL, 0);
    assert_int_equal(multiboot_parse(MULTIBOOT1_LOADER_MAGIC, PHYS_BASE, reader, &bi), 0);
    assert_int_equal(bi.rsdp_phys, 0);
    assert_rsdp_copy(MB2_ACPI_OLD, 0);
}

static void unknown_magic_is_refused(void **state)
{
    (void)state;
    static const struct mb2_range r[] = { { 0x100000, 0x1000, 1 } };
    mb2_mmap(r, 1, 24);
    mb2_end();
    assert_int_equal(multiboot_parse(0x1BADB002 /* the header magic, not the loader's */,
                                     PHYS_BASE, reader, &bi), -XEN_EINVAL);
    assert_int_equal(multiboot_parse(0, PHYS_BASE, reader, &bi), -XEN_EINVAL);
    assert_int_equal(bi.nr_ram, 0);
    assert_null(bi.loader);
}

/* A test on a multiboot1 (MB1_TEST) or multiboot2 (MB2_TEST) loader's view, undone by teardown. */
#define MB1_TEST(name) cmocka_unit_test_setup_teardown(name, mb1_setup, teardown)
#define MB2_TEST(name) cmocka_unit_test_setup_teardown(name, mb2_setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        MB1_TEST(mb1_qemu_style),
        MB1_TEST(mb1_without_mmap_is_refused),
        MB1_TEST(mb1_flags_gate_optional_fields),
        MB1_TEST(mb1_drops_empty_and_wrapping_ranges),
        MB1_TEST(mb1_honours_entry_size),
        MB1_TEST(mb1_caps_ranges_and_modules),
        MB1_TEST(mb1_long_cmdlines_truncated),
        MB2_TEST(mb2_grub_style),
        MB2_TEST(mb2_larger_mmap_entries),
        MB2_TEST(mb2_too_small_mmap_entries_ignored),
        MB2_TEST(mb2_without_mmap_is_refused),
        MB2_TEST(mb2_caps_ranges_and_modules),
        MB2_TEST(mb2_stops_at_end_tag_and_total_size),
        MB2_TEST(mb2_zero_size_tag_stops),
        MB2_TEST(mb2_last_tag_fills_total_size),
        MB2_TEST(unknown_magic_is_refused),
        MB2_TEST(mb2_acpi_old_only),
        MB2_TEST(mb2_acpi_new_only),
        MB2_TEST(mb2_acpi_new_wins_over_old),
        MB2_TEST(mb2_acpi_truncated_tag_ignored),
        MB2_TEST(mb2_acpi_truncated_new_falls_back_to_old),
        MB2_TEST(no_acpi_tag_gives_no_rsdp),
        /* Regression tests for parsing bugs found by these tests (fixed). */
        MB1_TEST(mb1_cmdline_flag_with_null_address),
        MB2_TEST(mb2_truncated_tag_stops),
        MB1_TEST(mb1_mmap_entry_size_wraps),
    };
    return UNIT_RUN("multiboot", tests);
}
