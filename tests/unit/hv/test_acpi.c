/*
 * Tests hypervisor/common/acpi.c: finding the RSDP, following the XSDT or
 * RSDT to the MADT and listing the APIC IDs of the usable processors. The
 * boot CPU starts exactly the processors this returns, so the tests check
 * the search order (EBDA before the BIOS area, XSDT before RSDT), which
 * entries count (enabled or online capable local APIC and x2APIC entries,
 * de-duplicated, capped at ACPI_MAX_CPUS), and that hostile firmware tables
 * (bad checksums, lengths too small, too large, zero or past the end,
 * unreadable ranges) end the walk cleanly.
 *
 * The "physical memory" is a buffer: physical address P is buffer offset P.
 * setup() puts the EBDA segment in the BDA, as a PC BIOS does; each test
 * builds its RSDP and tables there by hand. The reader hands out a fresh
 * heap copy of exactly the bytes asked for (freed after each call), so ASan
 * reports any read past a range the parser asked for, and it refuses ranges
 * outside the buffer or overlapping a test's "hole". Every call checks the
 * contract: count at most ACPI_MAX_CPUS, no duplicate IDs, count 0 on -1.
 * An alarm turns a parse that does not terminate into a failure. A
 * byte-flip loop over a valid image (checksums mostly recomputed, so the
 * flips reach the table walks) backs the directed tests.
 */
#include <string.h>
#include "unit.h"
#include "pvkit/acpi.h"

#define MEM_SIZE    0x240000u
#define EBDA_SEG    0x9fc0u
#define EBDA        (EBDA_SEG << 4)
#define BIOS_RSDP   0xf5a20u        /* where QEMU's SeaBIOS puts it, roughly */
#define RSDT_AT     0x100000u
#define XSDT_AT     0x101000u
#define FACP        0x102000u
#define MADT_A      0x103000u
#define MADT_B      0x104000u
#define HIGH_RSDP   0x105000u       /* outside both search windows */
#define HPET_AT     0x106000u
#define BIG         0x120000u       /* room for a table over ACPI_MAX_TABLE_LEN */

static uint8_t *mem;                /* the fake physical memory */
static struct acpi_platform cpus;

static void **copies;               /* the reader's copies, freed after each call */
static size_t nr_copies, max_copies;
static uint64_t max_request;        /* largest length ever asked of the reader */

static uint64_t hole_start, hole_end; /* the reader refuses [start, end) */

static const void *reader(uint64_t phys, uint64_t len)
{
    assert_true(phys + len >= phys);   /* the parser never asks for a wrapping range */
    if (len > max_request)
        max_request = len;
    if (phys >= MEM_SIZE || len > MEM_SIZE - phys)
        return NULL;
    if (phys < hole_end && phys + len > hole_start)
        return NULL;
    if (nr_copies == max_copies) {
        max_copies = max_copies ? 2 * max_copies : 64;
        copies = realloc(copies, max_copies * sizeof(*copies));
        assert_non_null(copies);
    }
    void *c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, mem + phys, len);
    copies[nr_copies++] = c;
    return c;
}

static void release_copies(void)
{
    for (size_t i = 0; i < nr_copies; i++)
        free(copies[i]);
    nr_copies = 0;
}

/* Checks what every result must satisfy, whatever the input. */
static void check_contract(int rc)
{
    assert_true(rc == 0 || rc == -1);
    assert_true(cpus.count <= ACPI_MAX_CPUS);
    assert_true(cpus.nr_ioapics <= ACPI_MAX_IOAPICS);
    if (rc) {
        assert_int_equal(cpus.count, 0);
        assert_int_equal(cpus.nr_ioapics, 0);
    }
    for (unsigned int i = 0; i < cpus.count; i++) {
        for (unsigned int j = 0; j < i; j++)
            assert_true(cpus.apic_id[i] != cpus.apic_id[j]);
    }
}

static int find(void)
{
    memset(&cpus, 0xa5, sizeof(cpus)); /* the parser must set count itself */
    int rc = acpi_scan(reader, &cpus);
    release_copies();
    check_contract(rc);
    return rc;
}

static int find_from(uint64_t rsdp)
{
    memset(&cpus, 0xa5, sizeof(cpus));
    int rc = acpi_scan_from_rsdp(reader, rsdp, &cpus);
    release_copies();
    check_contract(rc);
    return rc;
}

static void expect_cpus(const uint32_t *ids, unsigned int n)
{
    assert_int_equal(cpus.count, n);
    for (unsigned int i = 0; i < n; i++)
        assert_int_equal(cpus.apic_id[i], ids[i]);
}

#define EXPECT_CPUS(...) do {                                           \
        static const uint32_t want_[] = { __VA_ARGS__ };                \
        expect_cpus(want_, ARRAY_SIZE(want_));                          \
    } while (0)

/* The parse succeeds and finds exactly the CPUs listed (EXPECT_CPUS). */
#define EXPECT_FOUND(...) do {                                          \
        assert_int_equal(find(), 0);                                    \
        EXPECT_CPUS(__VA_ARGS__);                                       \
    } while (0)

static int setup(void **state)
{
    (void)state;
    mem = calloc(1, MEM_SIZE);
    if (!mem)
        return -1;
    hole_start = hole_end = 0;
    max_request = 0;
    mem[0x40e] = EBDA_SEG & 0xff;
    mem[0x40f] = EBDA_SEG >> 8;
    unit_watchdog(20, "test_acpi: the running test did not terminate\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unit_watchdog(0, "");
    release_copies();
    free(copies);
    copies = NULL;
    max_copies = 0;
    free(mem);
    mem = NULL;
    return 0;
}

/* ---- building tables ------------------------------------------------- */

static void put16(uint64_t at, uint16_t v) { memcpy(mem + at, &v, 2); }
static void put32(uint64_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(uint64_t at, uint64_t v) { memcpy(mem + at, &v, 8); }

/* Sets the byte at csum so that the len bytes at `at` sum to 0. */
static void fix_checksum(uint64_t at, uint32_t len, uint32_t csum)
{
    uint8_t sum = 0;
    mem[at + csum] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += mem[at + i];
    mem[at + csum] = (uint8_t)-sum;
}

static void rsdp(uint64_t at, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memcpy(mem + at, "RSD PTR ", 8);
    memcpy(mem + at + 9, "PVKIT ", 6);
    mem[at + 15] = rev;
    put32(at + 16, rsdt);
    fix_checksum(at, 20, 8);
    if (rev >= 2) {
        put32(at + 20, 36);
        put64(at + 24, xsdt);
        fix_checksum(at, 36, 32);
    }
}

/* Writes an SDT header with length len and seals the table's checksum. */
static void sdt(uint64_t at, const char *sig, uint32_t len)
{
    memcpy(mem + at, sig, 4);
    put32(at + 4, len);
    mem[at + 8] = 1;
    memcpy(mem + at + 10, "PVKIT PVKITTBL", 14);
    fix_checksum(at, len, 9);
}

static void rsdt(uint64_t at, const uint32_t *entries, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        put32(at + 36 + 4 * i, entries[i]);
    sdt(at, "RSDT", 36 + 4 * n);
}

static void xsdt(uint64_t at, const uint64_t *entries, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        put64(at + 36 + 8 * i, entries[i]);
    sdt(at, "XSDT", 36 + 8 * n);
}

#define MAKE_RSDT(at, ...) do {                                         \
        static const uint32_t e_[] = { __VA_ARGS__ };                   \
        rsdt(at, e_, ARRAY_SIZE(e_));                                   \
    } while (0)
#define MAKE_XSDT(at, ...) do {                                         \
        static const uint64_t e_[] = { __VA_ARGS__ };                   \
        xsdt(at, e_, ARRAY_SIZE(e_));                                   \
    } while (0)

static void facp(uint64_t at)
{
    sdt(at, "FACP", 116);
}

static uint64_t madt_at;
static uint32_t madt_len;

static void madt_begin(uint64_t at)
{
    madt_at = at;
    madt_len = 44;
    put32(at + 36, 0xfee00000);     /* local APIC address */
    put32(at + 40, 1);              /* PC-AT compatible */
}

static void madt_raw(const uint8_t *bytes, uint32_t n)
{
    memcpy(mem + madt_at + madt_len, bytes, n);
    madt_len += n;
}

static void lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = { 0, 8, uid, id };
    memcpy(e + 4, &flags, 4);
    madt_raw(e, sizeof(e));
}

static void x2apic(uint32_t id, uint32_t flags, uint32_t uid)
{
    uint8_t e[16] = { 9, 16 };
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &uid, 4);
    madt_raw(e, sizeof(e));
}

static void ioapic(uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    uint8_t e[12] = { 1, 12, id, 0 };
    memcpy(e + 4, &addr, 4);
    memcpy(e + 8, &gsi_base, 4);
    madt_raw(e, sizeof(e));
}

static void madt_end(void)
{
    sdt(madt_at, "APIC", madt_len);
}

/* MADT A lists APIC IDs 0 and 1, MADT B 4, 5 and 6: tells which one was used. */
static void madt_a(void)
{
    madt_begin(MADT_A);
    lapic(0, 0, 1);
    lapic(1, 1, 1);
    ioapic(2, 0xfec00000, 0);
    madt_end();
}

static void madt_b(void)
{
    madt_begin(MADT_B);
    lapic(0, 4, 1);
    x2apic(5, 1, 1);
    lapic(2, 6, 1);
    madt_end();
}

#define CPUS_A 0, 1
#define CPUS_B 4, 5, 6

/* A BIOS-area RSDP (revision 0) -> RSDT -> [FACP, MADT A]. */
static void plain_pc(void)
{
    facp(FACP);
    madt_a();
    MAKE_RSDT(RSDT_AT, FACP, MADT_A);
    rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
}

/*
 * plain_pc plus a second RSDP (revision 0) at at, naming a second RSDT
 * (RSDT_AT + 0x800) with MADT B: the tests see which of the two is found.
 */
static void pc_with_second_rsdt(uint64_t at)
{
    plain_pc();
    madt_b();
    MAKE_RSDT(RSDT_AT + 0x800, MADT_B);
    rsdp(at, 0, RSDT_AT + 0x800, 0);
}

/* Only an RSDP (revision 2) at at, naming an XSDT with MADT B. */
static void xsdt_rsdp_at(uint64_t at)
{
    madt_b();
    MAKE_XSDT(XSDT_AT, MADT_B);
    rsdp(at, 2, 0, XSDT_AT);
}

/* ---- search order ---------------------------------------------------- */

static void rsdt_only_bios_area(void **state)
{
    (void)state;
    facp(FACP);
    madt_begin(MADT_A);
    lapic(0, 0, 1);
    ioapic(2, 0xfec00000, 0);
    lapic(1, 1, 1);
    lapic(2, 2, 0);                 /* disabled */
    lapic(3, 3, 2);                 /* online capable */
    lapic(4, 4, 4);                 /* bit 2 only: not usable */
    x2apic(0x100, 1, 5);
    x2apic(0x101, 0, 6);            /* disabled */
    lapic(6, 6, 3);
    madt_end();
    MAKE_RSDT(RSDT_AT, FACP, MADT_A);
    rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    EXPECT_FOUND(0, 1, 3, 0x100, 6);
}

static void ebda_searched_before_bios_area(void **state)
{
    (void)state;
    pc_with_second_rsdt(EBDA + 0x40);
    EXPECT_FOUND(CPUS_B);
}

/* The RSDP starts in the EBDA's first KiB; its 36 bytes run past it. */
static void ebda_rsdp_in_last_slot(void **state)
{
    (void)state;
    xsdt_rsdp_at(EBDA + 0x3f0);
    EXPECT_FOUND(CPUS_B);
}

static void ebda_beyond_first_kib_not_searched(void **state)
{
    (void)state;
    xsdt_rsdp_at(EBDA + 0x400);
    assert_int_equal(find(), -1);
}

/* A zero EBDA segment means no EBDA: the first KiB of memory is not searched. */
static void zero_ebda_segment_skipped(void **state)
{
    (void)state;
    pc_with_second_rsdt(0x100);
    put16(0x40e, 0);
    EXPECT_FOUND(CPUS_A);
}

static void bios_area_bounds(void **state)
{
    (void)state;
    madt_a();
    /* Not at RSDT_AT: an RSDP in the window's last slot overlaps 0x100000. */
    MAKE_RSDT(RSDT_AT + 0x800, MADT_A);
    rsdp(0xe0000, 0, RSDT_AT + 0x800, 0);  /* first slot */
    EXPECT_FOUND(CPUS_A);
    memset(mem + 0xe0000, 0, 20);
    rsdp(0xffff0, 0, RSDT_AT + 0x800, 0);  /* last slot: 4 bytes past the window */
    EXPECT_FOUND(CPUS_A);
    memset(mem + 0xffff0, 0, 20);
    rsdp(0xdfff0, 0, RSDT_AT + 0x800, 0);  /* just below the window */
    assert_int_equal(find(), -1);
}

static void rsdp_off_16_byte_boundary_not_found(void **state)
{
    (void)state;
    plain_pc();
    memmove(mem + BIOS_RSDP + 8, mem + BIOS_RSDP, 20);
    memset(mem + BIOS_RSDP, 0, 8);
    assert_int_equal(find(), -1);
}

static void no_rsdp(void **state)
{
    (void)state;
    madt_a();
    MAKE_RSDT(RSDT_AT, MADT_A);
    assert_int_equal(find(), -1);
}

/* ---- RSDP checks ----------------------------------------------------- */

static void rsdp_bad_checksum_skipped(void **state)
{
    (void)state;
    pc_with_second_rsdt(0xe0000);
    mem[0xe0000 + 8]++;             /* earlier in the window, checksum off by one */
    EXPECT_FOUND(CPUS_A);
    mem[BIOS_RSDP + 19]++;          /* the only other one too */
    assert_int_equal(find(), -1);
}

static void rsdp_bad_signature(void **state)
{
    (void)state;
    plain_pc();
    mem[BIOS_RSDP + 7] = '_';
    fix_checksum(BIOS_RSDP, 20, 8);
    assert_int_equal(find(), -1);
}

/* Revision 2: the 20-byte checksum holds but the 36-byte one does not. */
static void rsdp_bad_extended_checksum_skipped(void **state)
{
    (void)state;
    plain_pc();
    xsdt_rsdp_at(EBDA);
    mem[EBDA + 33]++;               /* reserved byte: extended checksum only */
    EXPECT_FOUND(CPUS_A);
    mem[BIOS_RSDP + 8]++;
    assert_int_equal(find(), -1);
}

/* Revision 0 (and 1) RSDPs are 20 bytes: whatever follows is not an XSDT address. */
static void old_rsdp_ignores_xsdt_field(void **state)
{
    (void)state;
    for (uint8_t rev = 0; rev < 2; rev++) {
        plain_pc();
        madt_b();
        MAKE_XSDT(XSDT_AT, MADT_B);
        rsdp(BIOS_RSDP, rev, RSDT_AT, 0);
        put32(BIOS_RSDP + 20, 36);
        put64(BIOS_RSDP + 24, XSDT_AT);
        fix_checksum(BIOS_RSDP, 36, 32);
        EXPECT_FOUND(CPUS_A);
    }
}

/* ---- RSDT and XSDT --------------------------------------------------- */

static void xsdt_preferred(void **state)
{
    (void)state;
    facp(FACP);
    madt_a();
    madt_b();
    MAKE_RSDT(RSDT_AT, MADT_A);
    MAKE_XSDT(XSDT_AT, FACP, MADT_B);
    rsdp(BIOS_RSDP, 2, RSDT_AT, XSDT_AT);
    EXPECT_FOUND(CPUS_B);
}

/* An XSDT entry is 64 bits: one with high bits set is not the table at its low half. */
static void xsdt_entries_are_64_bit(void **state)
{
    (void)state;
    madt_a();
    madt_b();
    MAKE_XSDT(XSDT_AT, (1ull << 32) | MADT_A, MADT_B);
    rsdp(BIOS_RSDP, 2, 0, XSDT_AT);
    EXPECT_FOUND(CPUS_B);
}

static void bad_xsdt_falls_back_to_rsdt(void **state)
{
    (void)state;
    facp(FACP);
    madt_a();
    madt_b();
    MAKE_RSDT(RSDT_AT, MADT_A);

    MAKE_XSDT(XSDT_AT, MADT_B);
    mem[XSDT_AT + 40]++;            /* checksum */
    rsdp(BIOS_RSDP, 2, RSDT_AT, XSDT_AT);
    EXPECT_FOUND(CPUS_A);

    MAKE_XSDT(XSDT_AT, FACP);       /* valid, but no MADT */
    EXPECT_FOUND(CPUS_A);

    rsdp(BIOS_RSDP, 2, RSDT_AT, 0); /* no XSDT address */
    EXPECT_FOUND(CPUS_A);

    MAKE_XSDT(XSDT_AT, MADT_B);
    rsdp(BIOS_RSDP, 2, 0, XSDT_AT); /* no RSDT address: the XSDT alone */
    EXPECT_FOUND(CPUS_B);
}

static void bad_root_tables(void **state)
{
    (void)state;
    plain_pc();
    mem[RSDT_AT + 36]++;            /* checksum */
    assert_int_equal(find(), -1);

    plain_pc();
    memcpy(mem + RSDT_AT, "XSDT", 4); /* wrong signature for an RSDT */
    fix_checksum(RSDT_AT, 44, 9);
    assert_int_equal(find(), -1);

    plain_pc();
    sdt(RSDT_AT, "RSDT", 35);       /* shorter than a header */
    assert_int_equal(find(), -1);

    plain_pc();
    put32(RSDT_AT + 4, 0xfffffff0); /* far longer than memory */
    assert_int_equal(find(), -1);
    assert_true(max_request <= ACPI_MAX_TABLE_LEN);
}

/* A root table whose length ends inside an entry: the partial entry is not read. */
static void root_partial_entry_ignored(void **state)
{
    (void)state;
    plain_pc();
    MAKE_RSDT(RSDT_AT, FACP, MADT_A);
    sdt(RSDT_AT, "RSDT", 36 + 4 + 3);
    assert_int_equal(find(), -1);

    madt_b();
    MAKE_XSDT(XSDT_AT, FACP, MADT_B);
    sdt(XSDT_AT, "XSDT", 36 + 8 + 4);
    rsdp(BIOS_RSDP, 2, 0, XSDT_AT);
    assert_int_equal(find(), -1);
}

/* Many root entries, hostile addresses among them; the walk reaches the last. */
static void root_many_and_hostile_entries(void **state)
{
    (void)state;
    madt_a();
    madt_b();
    uint32_t n = 40000;
    for (uint32_t i = 0; i < n - 1; i++)
        put32(BIG + 36 + 4 * i, i % 3 ? 0xffffffffu - i : i);
    put32(BIG + 36 + 4 * (n - 1), MADT_A);
    sdt(BIG, "RSDT", 36 + 4 * n);
    rsdp(BIOS_RSDP, 0, BIG, 0);
    EXPECT_FOUND(CPUS_A);

    MAKE_XSDT(XSDT_AT, 0, UINT64_MAX, UINT64_MAX - 20, 1ull << 63, MEM_SIZE - 20,
              MEM_SIZE - 36, MADT_B);
    rsdp(BIOS_RSDP, 2, 0, XSDT_AT);
    EXPECT_FOUND(CPUS_B);
}

/* ---- MADT checks ----------------------------------------------------- */

static void madt_bad_checksum_refused(void **state)
{
    (void)state;
    plain_pc();
    mem[MADT_A + 50]++;
    assert_int_equal(find(), -1);
}

static void later_valid_madt_used(void **state)
{
    (void)state;
    madt_a();
    mem[MADT_A + 9]++;              /* checksum */
    madt_b();
    MAKE_RSDT(RSDT_AT, MADT_A, MADT_B);
    rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    EXPECT_FOUND(CPUS_B);
}

static void madt_shorter_than_its_fields(void **state)
{
    (void)state;
    plain_pc();
    sdt(MADT_A, "APIC", 43);        /* no room for the flags field */
    assert_int_equal(find(), -1);
    sdt(MADT_A, "APIC", 20);        /* not even a header */
    assert_int_equal(find(), -1);
    sdt(MADT_A, "APIC", 0);
    assert_int_equal(find(), -1);
    sdt(MADT_A, "APIC", 44);        /* valid, without entries */
    assert_int_equal(find(), 0);
    assert_int_equal(cpus.count, 0);
}

/* Tables are at most ACPI_MAX_TABLE_LEN long; the length is never asked for. */
static void madt_longer_than_limit_refused(void **state)
{
    (void)state;
    madt_begin(BIG);
    lapic(0, 7, 1);
    madt_len = ACPI_MAX_TABLE_LEN;  /* the rest is zeros: a zero-length entry */
    madt_end();
    MAKE_RSDT(RSDT_AT, BIG);
    rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    EXPECT_FOUND(7);

    madt_len = ACPI_MAX_TABLE_LEN + 1;
    madt_end();
    max_request = 0;
    assert_int_equal(find(), -1);
    assert_true(max_request <= ACPI_MAX_TABLE_LEN);
}

/*
 * Entries shorter than their own 2-byte header end the walk. The bytes after
 * each are laid out so that stepping over it (by 0, 1 or 2 bytes) would
 * find more enabled processors: 1 after a 0, 9 after a 1.
 */
static void madt_zero_and_one_length_entries_stop(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    lapic(0, 0, 1);
    madt_raw((const uint8_t[]){ 0, 0 }, 2);
    lapic(1, 1, 1);
    madt_end();
    EXPECT_FOUND(0);

    madt_begin(MADT_A);
    lapic(0, 0, 1);
    /* Read from its second byte: type 1 (I/O APIC), length 2, then a LAPIC. */
    madt_raw((const uint8_t[]){ 0, 1, 2 }, 3);
    lapic(1, 9, 1);
    madt_end();
    EXPECT_FOUND(0);
}

/* An entry running past the table ends the walk without reading past it. */
static void madt_entry_past_end(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    lapic(0, 0, 1);
    x2apic(9, 1, 1);
    madt_len -= 6;                  /* the table ends inside the x2APIC entry */
    madt_end();
    EXPECT_FOUND(0);

    madt_begin(MADT_A);
    lapic(0, 0, 1);
    madt_raw((const uint8_t[]){ 0, 255, 0, 3, 1, 0, 0, 0 }, 8);
    madt_end();
    EXPECT_FOUND(0);

    madt_begin(MADT_A);
    lapic(0, 0, 1);
    madt_raw((const uint8_t[]){ 0 }, 1);   /* a lone type byte */
    madt_end();
    EXPECT_FOUND(0);
}

/*
 * Processor entries too short for their fields are skipped, the walk goes
 * on. Read with the full layout, both would be enabled processors (9, 0x55).
 */
static void madt_short_processor_entries_skipped(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    madt_raw((const uint8_t[]){ 0, 6, 1, 9, 3, 0 }, 6);
    lapic(1, 7, 1);
    madt_raw((const uint8_t[]){ 9, 12, 0, 0, 0x55, 0, 0, 0, 1, 0, 0, 0 }, 12);
    lapic(2, 8, 1);
    madt_end();
    EXPECT_FOUND(7, 8);
}

/* Longer entries (later spec revisions) are read with their own length. */
static void madt_longer_entries_and_other_types(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    madt_raw((const uint8_t[]){ 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }, 10);      /* ISO */
    madt_raw((const uint8_t[]){ 0, 12, 0, 3, 1, 0, 0, 0, 0, 8, 1, 1 }, 12); /* long LAPIC */
    madt_raw((const uint8_t[]){ 4, 6, 0xff, 5, 0, 1 }, 6);                  /* LAPIC NMI */
    madt_raw((const uint8_t[]){ 0x7f, 3, 0 }, 3);                           /* unknown */
    lapic(1, 4, 1);
    madt_raw((const uint8_t[]){ 0xff, 2 }, 2);                              /* unknown */
    x2apic(0x200, 2, 2);
    madt_end();
    EXPECT_FOUND(3, 4, 0x200);
}

static void duplicates_removed(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    lapic(0, 3, 1);
    x2apic(3, 1, 0);                /* the same processor again */
    lapic(1, 1, 1);
    lapic(2, 3, 1);
    x2apic(1, 2, 1);
    lapic(3, 2, 1);
    madt_end();
    EXPECT_FOUND(3, 1, 2);
}

static void x2apic_ids_full_width(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    x2apic(0xfffffffeu, 1, 0);
    x2apic(0x12345678u, 1, 1);
    lapic(2, 0xff, 1);
    madt_end();
    EXPECT_FOUND(0xfffffffeu, 0x12345678u, 0xff);
}

static void more_than_max_cpus(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    for (int i = 0; i < 10; i++)
        x2apic(1000, 1, 0);         /* duplicates do not use up the cap */
    for (uint32_t i = 0; i < 100; i++)
        x2apic(1000 + i, 1, i);
    madt_end();
    assert_int_equal(find(), 0);
    assert_int_equal(cpus.count, ACPI_MAX_CPUS);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS; i++)
        assert_int_equal(cpus.apic_id[i], 1000 + i);
}

/* ---- I/O APICs and the HPET: the frames no domain may map ------------- */

/* An HPET table whose base address is in address space `space` (0: memory). */
static void hpet(uint64_t at, uint8_t space, uint64_t base)
{
    memset(mem + at, 0, 56);
    mem[at + 40] = space;
    put64(at + 44, base);
    sdt(at, "HPET", 56);
}

static void ioapics_and_hpet_found(void **state)
{
    (void)state;
    facp(FACP);
    madt_begin(MADT_A);
    lapic(0, 0, 1);
    ioapic(8, 0xfec00000, 0);
    ioapic(9, 0xfec01000, 24);
    madt_end();
    hpet(HPET_AT, 0, 0xfed00000);
    MAKE_RSDT(RSDT_AT, FACP, HPET_AT, MADT_A);
    rsdp(BIOS_RSDP, 0, RSDT_AT, 0);
    EXPECT_FOUND(0);
    assert_int_equal(cpus.nr_ioapics, 2);
    assert_int_equal(cpus.ioapic_phys[0], 0xfec00000);
    assert_int_equal(cpus.ioapic_phys[1], 0xfec01000);
    assert_int_equal(cpus.hpet_phys, 0xfed00000);
}

static void hpet_outside_memory_space_ignored(void **state)
{
    (void)state;
    plain_pc();
    hpet(HPET_AT, 1 /* I/O space */, 0x1000);
    MAKE_RSDT(RSDT_AT, FACP, HPET_AT, MADT_A);
    assert_int_equal(find(), 0);
    assert_int_equal(cpus.hpet_phys, 0);
    assert_int_equal(cpus.nr_ioapics, 1);
}

static void hpet_with_bad_checksum_ignored(void **state)
{
    (void)state;
    plain_pc();
    hpet(HPET_AT, 0, 0xfed00000);
    mem[HPET_AT + 50] ^= 1;
    MAKE_RSDT(RSDT_AT, FACP, HPET_AT, MADT_A);
    assert_int_equal(find(), 0);
    assert_int_equal(cpus.hpet_phys, 0);
}

static void ioapics_capped_and_listed_past_max_cpus(void **state)
{
    (void)state;
    plain_pc();
    madt_begin(MADT_A);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 5; i++)
        x2apic(1000 + i, 1, i);
    for (uint32_t i = 0; i < ACPI_MAX_IOAPICS + 3; i++)
        ioapic((uint8_t)i, 0xfec00000 + i * 0x1000, i * 24);
    madt_end();
    assert_int_equal(find(), 0);
    assert_int_equal(cpus.count, ACPI_MAX_CPUS);
    assert_int_equal(cpus.nr_ioapics, ACPI_MAX_IOAPICS);
    for (uint32_t i = 0; i < ACPI_MAX_IOAPICS; i++)
        assert_int_equal(cpus.ioapic_phys[i], 0xfec00000 + i * 0x1000);
}

/* ---- the reader refusing ranges -------------------------------------- */

/* EBDA RSDP (revision 2) -> XSDT -> MADT B, and plain_pc() in the BIOS area. */
static void two_rsdps(void)
{
    plain_pc();
    madt_b();
    MAKE_XSDT(XSDT_AT, MADT_B);
    rsdp(EBDA, 2, RSDT_AT, XSDT_AT);
}

static int find_with_hole(uint64_t start, uint64_t end)
{
    hole_start = start;
    hole_end = end;
    int rc = find();
    hole_start = hole_end = 0;
    return rc;
}

static void reader_refusals(void **state)
{
    (void)state;
    two_rsdps();
    EXPECT_FOUND(CPUS_B);

    assert_int_equal(find_with_hole(0x40e, 0x40f), 0);          /* BDA: no EBDA */
    EXPECT_CPUS(CPUS_A);
    assert_int_equal(find_with_hole(EBDA + 0x3ff, EBDA + 0x400), 0); /* EBDA window */
    EXPECT_CPUS(CPUS_A);
    assert_int_equal(find_with_hole(XSDT_AT + 40, XSDT_AT + 41), 0); /* XSDT: use the RSDT */
    EXPECT_CPUS(CPUS_A);
    assert_int_equal(find_with_hole(RSDT_AT, RSDT_AT + 1), 0);  /* RSDT: not needed */
    EXPECT_CPUS(CPUS_B);
    /* MADT B's header is readable, its whole length is not: the RSDT's MADT. */
    assert_int_equal(find_with_hole(MADT_B + 40, MADT_B + 41), 0);
    EXPECT_CPUS(CPUS_A);
    assert_int_equal(find_with_hole(0, 0x100000), -1);          /* all of low memory */
    assert_int_equal(find_with_hole(0xe0000, 0xe0001), 0);      /* BIOS window unused */
    EXPECT_CPUS(CPUS_B);

    /* In the EBDA's last slot, the RSDP's extended part lies past the window. */
    memmove(mem + EBDA + 0x3f0, mem + EBDA, 36);
    memset(mem + EBDA, 0, 36);
    EXPECT_FOUND(CPUS_B);
    assert_int_equal(find_with_hole(EBDA + 0x3f0 + 35, EBDA + 0x3f0 + 36), 0);
    EXPECT_CPUS(CPUS_A);

    put16(0x40e, 0);
    assert_int_equal(find_with_hole(0xfffff, 0x100000), -1);    /* BIOS window */
}

/* The first RSDP whose checksums hold is used, even if its tables are not. */
static void first_valid_rsdp_is_used(void **state)
{
    (void)state;
    plain_pc();
    facp(FACP);
    MAKE_RSDT(RSDT_AT + 0x800, FACP);
    rsdp(EBDA, 0, RSDT_AT + 0x800, 0);
    assert_int_equal(find(), -1);
    mem[EBDA + 8]++;
    EXPECT_FOUND(CPUS_A);
}

/* ---- a given RSDP ---------------------------------------------------- */

static void from_given_rsdp(void **state)
{
    (void)state;
    plain_pc();
    madt_b();
    MAKE_XSDT(XSDT_AT, MADT_B);
    rsdp(HIGH_RSDP, 2, RSDT_AT, XSDT_AT);
    assert_int_equal(find_from(HIGH_RSDP), 0);
    EXPECT_CPUS(CPUS_B);
    assert_int_equal(find_from(BIOS_RSDP), 0);
    EXPECT_CPUS(CPUS_A);
    assert_int_equal(find_from(HIGH_RSDP + 16), -1);           /* not an RSDP */
    assert_int_equal(find_from(MADT_B), -1);
    assert_int_equal(find_from(UINT64_MAX - 8), -1);           /* would wrap */
    assert_int_equal(find_from(MEM_SIZE - 20), -1);
    mem[HIGH_RSDP + 34]++;                                      /* extended checksum */
    assert_int_equal(find_from(HIGH_RSDP), -1);
}

/* ---- fuzz ------------------------------------------------------------ */

/* Byte writes made by one fuzz iteration, undone afterwards. */
static struct { uint64_t at; uint8_t old; } undo[64];
static unsigned int nr_undo;

static void poke(uint64_t at, uint8_t v)
{
    assert_true(nr_undo < ARRAY_SIZE(undo));
    undo[nr_undo].at = at;
    undo[nr_undo++].old = mem[at];
    mem[at] = v;
}

/* Recomputes a mutated table's checksum when its length is plausible. */
static void reseal(uint64_t at)
{
    uint32_t len;
    memcpy(&len, mem + at + 4, 4);
    if (len < 10 || len > 0x1000)
        return;
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += i == 9 ? 0 : mem[at + i];
    poke(at + 9, (uint8_t)-sum);
}

static void reseal_rsdp(uint64_t at)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < 20; i++)
        sum += i == 8 ? 0 : mem[at + i];
    poke(at + 8, (uint8_t)-sum);
    sum = 0;
    for (uint32_t i = 0; i < 36; i++)
        sum += i == 32 ? 0 : mem[at + i];
    poke(at + 32, (uint8_t)-sum);
}

static void fuzz_byte_flips(void **state)
{
    (void)state;
    two_rsdps();
    madt_begin(MADT_B);             /* a richer MADT B */
    lapic(0, 4, 1);
    ioapic(8, 0xfec00000, 0);
    x2apic(5, 1, 1);
    lapic(2, 6, 0);
    madt_raw((const uint8_t[]){ 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 }, 10);
    x2apic(0x300, 2, 3);
    lapic(4, 7, 1);
    madt_end();
    EXPECT_FOUND(4, 5, 0x300, 7);

    static const struct { uint64_t at; uint32_t len; } regions[] = {
        { EBDA, 36 }, { XSDT_AT, 44 }, { MADT_B, 44 + 8 + 12 + 16 + 8 + 10 + 16 + 8 },
        { RSDT_AT, 44 }, { MADT_A, 64 }, { 0x40e, 2 },
    };
    static const uint8_t interesting[] = { 0x00, 0x01, 0x02, 0x09, 0x10, 0x2c, 0x7f,
                                           0x80, 0xfe, 0xff };
    uint64_t seed = 0x0acb1a5eed5eed00ull;
    unsigned int ok = 0, refused = 0, changed = 0;

    for (int iter = 0; iter < 20000; iter++) {
        nr_undo = 0;
        int flips = 1 + (int)(unit_rand(&seed) % 4);
        for (int f = 0; f < flips; f++) {
            uint64_t r = unit_rand(&seed);
            /* Mostly MADT B, where the entry walk is. */
            unsigned int which = (r & 1) ? 2 : (unsigned int)((r >> 1) % ARRAY_SIZE(regions));
            uint64_t at = regions[which].at + (r >> 8) % regions[which].len;
            poke(at, (r >> 40) & 1 ? interesting[(r >> 41) % sizeof(interesting)]
                                   : (uint8_t)(r >> 48));
        }
        if (unit_rand(&seed) % 4) {  /* mostly keep checksums valid, to get past them */
            reseal_rsdp(EBDA);
            reseal(XSDT_AT);
            reseal(RSDT_AT);
            reseal(MADT_B);
            reseal(MADT_A);
        }
        int rc = find();
        if (rc)
            refused++;
        else
            ok++;
        if (rc == 0 && !(cpus.count == 4 && cpus.apic_id[0] == 4 && cpus.apic_id[1] == 5 &&
                         cpus.apic_id[2] == 0x300 && cpus.apic_id[3] == 7))
            changed++;
        while (nr_undo) {
            nr_undo--;
            mem[undo[nr_undo].at] = undo[nr_undo].old;
        }
    }
    /* Both outcomes, and parses that differ from the original, must occur. */
    assert_true(ok > 1000 && refused > 1000 && changed > 1000);
    print_message("fuzz: %u parsed (%u with other CPUs), %u refused\n", ok, changed, refused);
}

/* Every test runs on a fresh machine (setup) and is undone by teardown. */
#define ACPI_TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ACPI_TEST(rsdt_only_bios_area),
        ACPI_TEST(ebda_searched_before_bios_area),
        ACPI_TEST(ebda_rsdp_in_last_slot),
        ACPI_TEST(ebda_beyond_first_kib_not_searched),
        ACPI_TEST(zero_ebda_segment_skipped),
        ACPI_TEST(bios_area_bounds),
        ACPI_TEST(rsdp_off_16_byte_boundary_not_found),
        ACPI_TEST(no_rsdp),
        ACPI_TEST(rsdp_bad_checksum_skipped),
        ACPI_TEST(rsdp_bad_signature),
        ACPI_TEST(rsdp_bad_extended_checksum_skipped),
        ACPI_TEST(old_rsdp_ignores_xsdt_field),
        ACPI_TEST(xsdt_preferred),
        ACPI_TEST(xsdt_entries_are_64_bit),
        ACPI_TEST(bad_xsdt_falls_back_to_rsdt),
        ACPI_TEST(bad_root_tables),
        ACPI_TEST(root_partial_entry_ignored),
        ACPI_TEST(root_many_and_hostile_entries),
        ACPI_TEST(madt_bad_checksum_refused),
        ACPI_TEST(later_valid_madt_used),
        ACPI_TEST(madt_shorter_than_its_fields),
        ACPI_TEST(madt_longer_than_limit_refused),
        ACPI_TEST(madt_zero_and_one_length_entries_stop),
        ACPI_TEST(madt_entry_past_end),
        ACPI_TEST(madt_short_processor_entries_skipped),
        ACPI_TEST(madt_longer_entries_and_other_types),
        ACPI_TEST(duplicates_removed),
        ACPI_TEST(x2apic_ids_full_width),
        ACPI_TEST(more_than_max_cpus),
        ACPI_TEST(ioapics_and_hpet_found),
        ACPI_TEST(hpet_outside_memory_space_ignored),
        ACPI_TEST(hpet_with_bad_checksum_ignored),
        ACPI_TEST(ioapics_capped_and_listed_past_max_cpus),
        ACPI_TEST(reader_refusals),
        ACPI_TEST(first_valid_rsdp_is_used),
        ACPI_TEST(from_given_rsdp),
        ACPI_TEST(fuzz_byte_flips),
    };
    return UNIT_RUN("acpi", tests);
}
