/*
 * partition: where the filesystems of a raw disk image lie, read from its
 * partition table as pygrub does before it looks for a boot config: an
 * MBR's four primary entries, or the GPT behind a protective MBR (type
 * 0xee); a disk without an MBR signature is one filesystem from byte 0.
 * Sectors are 512 bytes. Extended (logical) MBR partitions are not
 * followed.
 *
 * The disk is read only through a struct disk_src, so the same code reads
 * a file, a block device or a buffer (the fuzz target). Every number read
 * is checked: a partition that does not lie inside the disk, a GPT header
 * or entry array out of range, is refused with one line, never read past.
 */
#ifndef PVKIT_PARTITION_H
#define PVKIT_PARTITION_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define BOOT_ERR_MAX   256  /* room for one error line of the disk readers */
#define PART_MAX       16   /* partitions reported (GPT may list 128 slots) */
#define PART_SECTOR    512u

/* A read-only disk: READ copies LEN bytes at OFF into BUF (0, or -errno). */
struct disk_src {
    int (*read)(void *arg, uint64_t off, void *buf, size_t len);
    void *arg;
    uint64_t size;      /* bytes */
};

struct part {
    unsigned number;    /* 1-based, as Linux names xvda1 */
    uint64_t offset;    /* bytes from the start of the disk */
    uint64_t size;      /* bytes */
};

/*
 * Reads D's partition table into PARTS (at most PART_MAX, in table order,
 * empty slots skipped) and *NR. A disk with no table gives one "partition"
 * 0 covering it whole. 0, or -EINVAL / -EIO with one line in ERR
 * ("partition 2 ends past the end of the disk", "GPT: entry size 17 ...").
 */
int part_read_table(const struct disk_src *d, struct part parts[PART_MAX], unsigned *nr,
                    char err[BOOT_ERR_MAX]);

/* Reads LEN bytes at OFF of D, refusing a range outside it (-EINVAL) */
int disk_read(const struct disk_src *d, uint64_t off, void *buf, size_t len);

/* Little-endian loads from a byte buffer. */
static inline uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

#endif
