/*
 * ACPI parsing: the local APIC IDs of the processors the firmware lists, and
 * where its I/O APICs and HPET are.
 *
 * Path: RSDP (searched for, or given) -> XSDT or RSDT -> MADT ("APIC") ->
 * its processor and I/O APIC entries; and the root -> "HPET". Layouts are
 * those of the ACPI specification (sections 5.2.5 RSDP, 5.2.6 SDT header,
 * 5.2.7/5.2.8 RSDT/XSDT, 5.2.12 MADT) and of the IA-PC HPET specification
 * (its table's base address, a Generic Address Structure at offset 40).
 *
 * Invariants:
 *  - Every byte this file reads lies inside a range the reader returned, and
 *    every range asked of the reader is one whose length is known to be
 *    wanted: the RSDP's 20 or 36 bytes, a table's 36-byte header, then the
 *    table's whole checked length (at most ACPI_MAX_TABLE_LEN).
 *  - Nothing in a table is used before its checksum and length are checked:
 *    the RSDP's 20-byte checksum (and the 36-byte extended one for revision
 *    2 and later), an SDT's checksum over its whole length, and a length of
 *    at least its fixed fields.
 *  - Fields are read byte by byte (little-endian), so tables at any alignment
 *    are fine and no packed structures are needed.
 *  - Every loop advances by a positive step towards a bound fixed before it
 *    starts (the search windows, the root table's length, the MADT's
 *    length), so all input terminates; the work is bounded by the window
 *    sizes and ACPI_MAX_TABLE_LEN.
 */
#include "pvkit/acpi.h"

#define RSDP_V1_LEN         20      /* checksum covers these bytes */
#define RSDP_V2_LEN         36      /* extended checksum covers these bytes */
#define RSDP_REVISION       15
#define RSDP_RSDT_ADDR      16
#define RSDP_XSDT_ADDR      24
#define RSDP_STEP           16      /* the RSDP sits on a 16-byte boundary */

#define BDA_EBDA_SEGMENT    0x40e   /* real-mode segment of the EBDA */
#define EBDA_WINDOW_LEN     1024
#define BIOS_WINDOW_START   0xe0000
#define BIOS_WINDOW_LEN     0x20000

#define SDT_HEADER_LEN      36
#define SDT_LENGTH          4
#define MADT_ENTRIES        44      /* header, local APIC address, flags */

#define MADT_LOCAL_APIC     0       /* uid:8 apic_id:8 flags:32, 8 bytes */
#define MADT_IO_APIC        1       /* id:8 reserved:8 address:32 gsi_base:32, 12 bytes */
#define MADT_LOCAL_X2APIC   9       /* reserved:16 x2apic_id:32 flags:32 uid:32, 16 bytes */
#define MADT_USABLE         0x3     /* flags: enabled | online capable */

#define HPET_TABLE_LEN      56
#define HPET_BASE_SPACE     40      /* Generic Address Structure: space id 0 = memory */
#define HPET_BASE_ADDR      44

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* True if the len bytes at p sum to 0 modulo 256. */
static bool checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

/* The reader's range [phys, phys + len), or NULL if it is unreadable or wraps. */
static const uint8_t *map(acpi_phys_reader read, uint64_t phys, uint64_t len)
{
    if (phys > UINT64_MAX - len)
        return NULL;
    return read(phys, len);
}

/*
 * Validates the RSDP at phys: signature, 20-byte checksum, and for revision
 * 2 or later the 36-byte extended checksum. On success sets *rsdt and *xsdt
 * (0 when absent: always for revision 0 and 1) and returns true.
 */
static bool rsdp_at(acpi_phys_reader read, uint64_t phys, uint64_t *rsdt, uint64_t *xsdt)
{
    const uint8_t *p = map(read, phys, RSDP_V1_LEN);

    if (!p || memcmp(p, "RSD PTR ", 8) || !checksum_ok(p, RSDP_V1_LEN))
        return false;
    *rsdt = le32(p + RSDP_RSDT_ADDR);
    *xsdt = 0;
    if (p[RSDP_REVISION] < 2)
        return true;
    p = map(read, phys, RSDP_V2_LEN);
    if (!p || !checksum_ok(p, RSDP_V2_LEN))
        return false;
    *xsdt = le64(p + RSDP_XSDT_ADDR);
    return true;
}

/*
 * Looks for a valid RSDP starting at a 16-byte step in [start, start + len)
 * (len a multiple of 16). The window is read once for the signatures; each
 * candidate is validated by rsdp_at(), so an RSDP may extend past the window.
 * Returns true with *rsdt and *xsdt set for the first valid one.
 */
static bool rsdp_scan(acpi_phys_reader read, uint64_t start, uint32_t len,
                      uint64_t *rsdt, uint64_t *xsdt)
{
    const uint8_t *w = map(read, start, len);

    if (!w)
        return false;
    for (uint32_t off = 0; off < len; off += RSDP_STEP) {
        if (!memcmp(w + off, "RSD PTR ", 8) && rsdp_at(read, start + off, rsdt, xsdt))
            return true;
    }
    return false;
}

/*
 * Returns the whole table at phys if its signature is sig, its length is at
 * least min_len and at most ACPI_MAX_TABLE_LEN, and its checksum over that
 * length holds; sets *len. NULL otherwise.
 */
static const uint8_t *sdt_at(acpi_phys_reader read, uint64_t phys, const char *sig,
                             uint32_t min_len, uint32_t *len)
{
    const uint8_t *h = map(read, phys, SDT_HEADER_LEN);

    if (!h || memcmp(h, sig, 4))
        return NULL;
    *len = le32(h + SDT_LENGTH);
    if (*len < min_len || *len > ACPI_MAX_TABLE_LEN)
        return NULL;
    const uint8_t *t = map(read, phys, *len);
    if (!t || !checksum_ok(t, *len))
        return NULL;
    return t;
}

/*
 * The first valid table with signature `want` (at least min_len bytes) that
 * the root table at root_phys (signature `sig`, entry_size 4 for the RSDT, 8
 * for the XSDT) lists; its length in *len. NULL if none.
 */
static const uint8_t *table_from_root(acpi_phys_reader read, uint64_t root_phys,
                                      const char *sig, uint32_t entry_size,
                                      const char *want, uint32_t min_len, uint32_t *len)
{
    uint32_t root_len;
    const uint8_t *root = sdt_at(read, root_phys, sig, SDT_HEADER_LEN, &root_len);

    if (!root)
        return NULL;
    for (uint32_t off = SDT_HEADER_LEN; entry_size <= root_len - off; off += entry_size) {
        uint64_t phys = entry_size == 8 ? le64(root + off) : le32(root + off);
        const uint8_t *t = sdt_at(read, phys, want, min_len, len);
        if (t)
            return t;
    }
    return NULL;
}

/* The table `want` from the XSDT if it lists one, else from the RSDT. */
static const uint8_t *find_table(acpi_phys_reader read, uint64_t rsdt, uint64_t xsdt,
                                 const char *want, uint32_t min_len, uint32_t *len)
{
    const uint8_t *t = NULL;

    if (xsdt)
        t = table_from_root(read, xsdt, "XSDT", 8, want, min_len, len);
    if (!t && rsdt)
        t = table_from_root(read, rsdt, "RSDT", 4, want, min_len, len);
    return t;
}

/* Appends id to out unless it is already listed (out is not full). */
static void add_cpu(struct acpi_platform *out, uint32_t id)
{
    for (unsigned int i = 0; i < out->count; i++) {
        if (out->apic_id[i] == id)
            return;
    }
    out->apic_id[out->count++] = id;
}

/*
 * Lists the usable processors (up to ACPI_MAX_CPUS) and the I/O APICs (up to
 * ACPI_MAX_IOAPICS) of a checked MADT of len bytes. An entry
 * shorter than its 2-byte header or running past the table ends the walk;
 * a processor entry too short for its fields, and entries of other types,
 * are skipped.
 */
static void madt_entries(const uint8_t *madt, uint32_t len, struct acpi_platform *out)
{
    uint32_t elen;

    for (uint32_t off = MADT_ENTRIES; len - off >= 2; off += elen) {
        const uint8_t *e = madt + off;
        elen = e[1];
        if (elen < 2 || elen > len - off)
            return;
        if (e[0] == MADT_IO_APIC && elen >= 12) {
            if (out->nr_ioapics < ACPI_MAX_IOAPICS)
                out->ioapic_phys[out->nr_ioapics++] = le32(e + 4);
        } else if (out->count == ACPI_MAX_CPUS) {
            continue;
        } else if (e[0] == MADT_LOCAL_APIC && elen >= 8) {
            if (le32(e + 4) & MADT_USABLE)
                add_cpu(out, e[3]);
        } else if (e[0] == MADT_LOCAL_X2APIC && elen >= 16) {
            if (le32(e + 8) & MADT_USABLE)
                add_cpu(out, le32(e + 4));
        }
    }
}

/* The common tail: from the root table addresses of a valid RSDP to out. */
static int scan_roots(acpi_phys_reader read, uint64_t rsdt, uint64_t xsdt,
                      struct acpi_platform *out)
{
    uint32_t len;
    const uint8_t *hpet = find_table(read, rsdt, xsdt, "HPET", HPET_TABLE_LEN, &len);

    if (hpet && hpet[HPET_BASE_SPACE] == 0)
        out->hpet_phys = le64(hpet + HPET_BASE_ADDR);
    const uint8_t *madt = find_table(read, rsdt, xsdt, "APIC", MADT_ENTRIES, &len);
    if (!madt)
        return -1;
    madt_entries(madt, len, out);
    return 0;
}

int acpi_scan_from_rsdp(acpi_phys_reader read, uint64_t rsdp_phys,
                             struct acpi_platform *out)
{
    uint64_t rsdt, xsdt;

    *out = (struct acpi_platform){ 0 };
    if (!rsdp_at(read, rsdp_phys, &rsdt, &xsdt))
        return -1;
    return scan_roots(read, rsdt, xsdt, out);
}

int acpi_scan(acpi_phys_reader read, struct acpi_platform *out)
{
    uint64_t rsdt, xsdt;
    const uint8_t *bda = map(read, BDA_EBDA_SEGMENT, 2);
    uint64_t ebda = bda ? (uint64_t)(bda[0] | bda[1] << 8) << 4 : 0;

    *out = (struct acpi_platform){ 0 };
    if (!(ebda && rsdp_scan(read, ebda, EBDA_WINDOW_LEN, &rsdt, &xsdt)) &&
        !rsdp_scan(read, BIOS_WINDOW_START, BIOS_WINDOW_LEN, &rsdt, &xsdt))
        return -1;
    return scan_roots(read, rsdt, xsdt, out);
}
