/*
 * partition: MBR and GPT partition tables (partition.h). Only the fields
 * that place a partition are read; GPT CRCs are not checked (a wrong CRC
 * can only point at bytes that are checked to lie inside the disk anyway).
 */
#include "partition.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MBR_SIG_OFF     510
#define MBR_TABLE_OFF   446
#define MBR_ENTRY_SIZE  16
#define MBR_TYPE_GPT    0xee
#define GPT_MAX_ENTRIES 1024
#define GPT_MAX_ENTRY   4096

/* One line into ERR; returns RC. */
#define fail(err, rc, ...) errbuf_fail(err, BOOT_ERR_MAX, rc, __VA_ARGS__)

int disk_read(const struct disk_src *d, uint64_t off, void *buf, size_t len)
{
    if (off > d->size || len > d->size - off)
        return -EINVAL;
    return d->read(d->arg, off, buf, len);
}

static bool is_extended(unsigned type)
{
    return type == 0x05 || type == 0x0f || type == 0x85;
}

/* Adds partition NUMBER at sectors [FIRST, FIRST+COUNT) if it lies in D. */
static int add_part(const struct disk_src *d, struct part parts[PART_MAX], unsigned *nr,
                    unsigned number, uint64_t first, uint64_t count, char err[BOOT_ERR_MAX])
{
    uint64_t sectors = d->size / PART_SECTOR;

    if (first == 0)
        return fail(err, -EINVAL, "partition %u starts at sector 0, on the partition table",
                    number);
    if (first > sectors || count > sectors - first)
        return fail(err, -EINVAL, "partition %u (sectors %llu+%llu) ends past the end of the disk "
                    "(%llu sectors)", number, (unsigned long long)first,
                    (unsigned long long)count, (unsigned long long)sectors);
    if (*nr == PART_MAX)
        return 0;
    parts[(*nr)++] = (struct part){ .number = number, .offset = first * PART_SECTOR,
                                    .size = count * PART_SECTOR };
    return 0;
}

/* The GPT behind a protective MBR. */
static int read_gpt(const struct disk_src *d, struct part parts[PART_MAX], unsigned *nr,
                    char err[BOOT_ERR_MAX])
{
    unsigned char h[92], e[GPT_MAX_ENTRY];
    static const unsigned char zero[16];

    if (disk_read(d, PART_SECTOR, h, sizeof(h)))
        return fail(err, -EINVAL, "GPT: cannot read the header");
    if (memcmp(h, "EFI PART", 8))
        return fail(err, -EINVAL, "GPT: protective MBR but no GPT header");
    uint64_t array = le64(h + 72);
    uint32_t count = le32(h + 80), esize = le32(h + 84);
    if (count > GPT_MAX_ENTRIES || esize < 128 || esize > GPT_MAX_ENTRY || esize % 8)
        return fail(err, -EINVAL, "GPT: %u entries of %u bytes (at most %u of 128..%u)", count,
                    esize, GPT_MAX_ENTRIES, GPT_MAX_ENTRY);
    if (array > d->size / PART_SECTOR)
        return fail(err, -EINVAL, "GPT: entry array past the end of the disk");
    for (uint32_t i = 0; i < count; i++) {
        if (disk_read(d, array * PART_SECTOR + (uint64_t)i * esize, e, esize))
            return fail(err, -EINVAL, "GPT: entry %u past the end of the disk", i + 1);
        if (!memcmp(e, zero, sizeof(zero)))
            continue;
        uint64_t first = le64(e + 32), last = le64(e + 40);
        if (last < first)
            return fail(err, -EINVAL, "GPT: partition %u ends before it starts", i + 1);
        int rc = add_part(d, parts, nr, i + 1, first, last - first + 1, err);
        if (rc)
            return rc;
    }
    return 0;
}

int part_read_table(const struct disk_src *d, struct part parts[PART_MAX], unsigned *nr,
                    char err[BOOT_ERR_MAX])
{
    unsigned char mbr[PART_SECTOR];

    *nr = 0;
    if (disk_read(d, 0, mbr, sizeof(mbr)))
        return fail(err, -EINVAL, "shorter than one sector (%llu bytes)",
                    (unsigned long long)d->size);
    if (mbr[MBR_SIG_OFF] != 0x55 || mbr[MBR_SIG_OFF + 1] != 0xaa) {
        parts[(*nr)++] = (struct part){ .number = 0, .offset = 0, .size = d->size };
        return 0;
    }
    for (unsigned i = 0; i < 4; i++) {
        const unsigned char *e = mbr + MBR_TABLE_OFF + i * MBR_ENTRY_SIZE;
        unsigned type = e[4];
        if (type == MBR_TYPE_GPT)
            return read_gpt(d, parts, nr, err);
        if (type == 0 || is_extended(type))
            continue;
        int rc = add_part(d, parts, nr, i + 1, le32(e + 8), le32(e + 12), err);
        if (rc)
            return rc;
    }
    return 0;
}
