/*
 * extfs: a read-only reader of ext2, ext3 and ext4 filesystems in a disk
 * image, in user space: the boot loader (bootloader.h) reads a guest's
 * kernel and boot config through it instead of mounting the guest's
 * filesystem, so a hostile image only ever meets this code, never dom0's
 * kernel.
 *
 * It reads the superblock, 32- and 64-bit group descriptors, inodes, both
 * block maps (ext4 extent trees, with uninitialized extents read as zeros,
 * and ext2/3 direct/indirect blocks), directories (read linearly, which
 * also reads htree-indexed ones: their index blocks look like empty
 * entries), and symlinks, fast (text in the inode) and slow. The journal
 * is not replayed. Refused: meta_bg, inline data, encryption, compression,
 * an external journal device and unknown incompatible features.
 *
 * Invariants: every number read from the image is checked before use
 * (block numbers against the filesystem's size, which is checked against
 * the partition's; inode numbers against the inode count; directory
 * entries against their block); loops are bounded (extent depth at most
 * EXTFS_MAX_DEPTH, at most EXTFS_MAX_LINKS symlinks and EXTFS_MAX_DIR
 * bytes of directories per lookup, so a path of a thousand components
 * through a huge directory that contains itself ends quickly; file walks
 * by their checked sizes); no allocation is larger than
 * a block or the caller's cap. An error is -errno with one line in the
 * fs's error buffer, starting with the filesystem's kind
 * ("ext4: extent tree deeper than 5 levels").
 */
#ifndef PVKIT_EXTFS_H
#define PVKIT_EXTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "partition.h"

#define EXTFS_MAX_DEPTH 5      /* extent tree levels below the inode (Linux's limit) */
#define EXTFS_MAX_LINKS 8      /* symlinks followed in one lookup */
#define EXTFS_MAX_PATH  4096   /* bytes of a path being resolved */
#define EXTFS_MAX_DIR   (16u << 20) /* bytes of directories read in one lookup */

struct extfs {
    const struct disk_src *disk;
    uint64_t base;              /* the filesystem's first byte on the disk */
    uint64_t blocks_count;      /* checked: blocks_count * block_size fits the partition */
    uint32_t block_size;        /* 1 KiB .. 64 KiB */
    uint32_t first_data_block, blocks_per_group, inodes_per_group, inodes_count;
    uint32_t groups, inode_size, desc_size;
    bool is_64bit;
    const char *kind;           /* "ext2", "ext3" or "ext4", for messages */
    uint64_t dir_budget;        /* directory bytes the current lookup may still read */
    char *err;                  /* BOOT_ERR_MAX bytes, the caller's */
};

/*
 * Opens the filesystem at bytes [OFFSET, OFFSET+SIZE) of D, checking its
 * superblock. 0; -ENODEV if there is no ext2/3/4 superblock there (ERR
 * says so); -EINVAL / -ENOTSUP / -EIO with one line in ERR. ERR must
 * outlive FS: later errors are written there too.
 */
int extfs_open(struct extfs *fs, const struct disk_src *d, uint64_t offset, uint64_t size,
               char err[BOOT_ERR_MAX]);

/*
 * Reads the regular file PATH (absolute, symlinks followed) whole into a
 * fresh buffer *BUF (*LEN bytes plus a NUL after them, free()d by the
 * caller), refusing one larger than MAX bytes (-EFBIG). Holes read as
 * zeros. -ENOENT if some component does not exist; -EINVAL etc. for a
 * broken filesystem, with one line in the error buffer.
 */
int extfs_read_file(struct extfs *fs, const char *path, size_t max, unsigned char **buf,
                    size_t *len);

#endif
