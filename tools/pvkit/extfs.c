/*
 * extfs: ext2/3/4 read-only (extfs.h). On-disk layouts are those of the
 * ext4 documentation ("ext4 Data Structures and Algorithms"); fields are
 * read by offset from little-endian byte buffers, never by casting.
 */
#include "extfs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_OFFSET        1024
#define SB_MAGIC         0xef53
#define ROOT_INO         2
#define GOOD_OLD_ISIZE   128
#define INODE_READ       128          /* the bytes of an inode this reader uses */
#define I_BLOCK_OFF      0x28
#define I_BLOCK_LEN      60
#define NDIR_BLOCKS      12

#define COMPAT_HAS_JOURNAL 0x4
#define INCOMPAT_EXTENTS   0x40
#define INCOMPAT_64BIT     0x80
#define INCOMPAT_FLEX_BG   0x200
/* compression 0x1, journal_dev 0x8, meta_bg 0x10, dirdata 0x1000,
 * inline_data 0x8000, encrypt 0x10000 and unknown bits are refused */
#define INCOMPAT_READABLE  (0x2 | 0x4 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | \
                            0x4000 | 0x20000)

#define FL_EXTENTS  0x80000
#define S_IFMT_     0xf000
#define S_IFDIR_    0x4000
#define S_IFREG_    0x8000
#define S_IFLNK_    0xa000

#define EXT_MAGIC        0xf30a
#define EXT_INIT_MAX_LEN 32768u

struct inode {
    uint32_t ino;
    uint16_t mode;
    uint32_t flags;
    uint64_t size;
    unsigned char block[I_BLOCK_LEN];
};

static int __attribute__((format(printf, 3, 4)))
fail(struct extfs *fs, int rc, const char *fmt, ...)
{
    int n = snprintf(fs->err, BOOT_ERR_MAX, "%s: ", fs->kind);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(fs->err + n, BOOT_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reads LEN bytes at byte OFF of the filesystem, which must lie inside it. */
static int fs_read(struct extfs *fs, uint64_t off, void *buf, size_t len)
{
    uint64_t fs_bytes = fs->blocks_count * fs->block_size;

    if (off > fs_bytes || len > fs_bytes - off)
        return fail(fs, -EINVAL, "read of %zu bytes at %llu past the end of the filesystem",
                    len, (unsigned long long)off);
    int rc = disk_read(fs->disk, fs->base + off, buf, len);
    return rc ? fail(fs, rc, "cannot read the image at %llu: %s",
                     (unsigned long long)(fs->base + off), strerror(-rc)) : 0;
}

static int read_block(struct extfs *fs, uint64_t blk, void *buf)
{
    if (blk >= fs->blocks_count)
        return fail(fs, -EINVAL, "block %llu out of range (%llu blocks)",
                    (unsigned long long)blk, (unsigned long long)fs->blocks_count);
    return fs_read(fs, blk * fs->block_size, buf, fs->block_size);
}

static bool is_pow2(uint32_t x) { return x && !(x & (x - 1)); }

/* The superblock's geometry, every field range-checked. */
static int check_geometry(struct extfs *fs, const unsigned char *sb, uint64_t size)
{
    uint32_t log_bs = le32(sb + 24);

    if (log_bs > 6)
        return fail(fs, -EINVAL, "block size 1024 << %u (at most 64 KiB)", log_bs);
    fs->block_size = 1024u << log_bs;
    fs->blocks_count = le32(sb + 4) | (fs->is_64bit ? (uint64_t)le32(sb + 0x150) << 32 : 0);
    if (fs->blocks_count > size / fs->block_size)
        return fail(fs, -EINVAL, "%llu blocks of %u bytes, but the partition holds %llu bytes "
                    "(truncated image?)", (unsigned long long)fs->blocks_count, fs->block_size,
                    (unsigned long long)size);
    fs->first_data_block = le32(sb + 20);
    fs->blocks_per_group = le32(sb + 32);
    fs->inodes_per_group = le32(sb + 40);
    fs->inodes_count = le32(sb);
    if (fs->first_data_block != (fs->block_size == 1024) || fs->blocks_count <= 2)
        return fail(fs, -EINVAL, "first data block %u, %llu blocks", fs->first_data_block,
                    (unsigned long long)fs->blocks_count);
    if (fs->blocks_per_group < 8 || fs->blocks_per_group > 8 * fs->block_size ||
        fs->blocks_per_group % 8)
        return fail(fs, -EINVAL, "%u blocks per group (8..%u, a multiple of 8)",
                    fs->blocks_per_group, 8 * fs->block_size);
    if (!fs->inodes_per_group || fs->inodes_per_group > 8 * fs->block_size)
        return fail(fs, -EINVAL, "%u inodes per group (1..%u)", fs->inodes_per_group,
                    8 * fs->block_size);
    uint64_t groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) /
                      fs->blocks_per_group;
    uint64_t gdt_end = (uint64_t)(fs->first_data_block + 1) * fs->block_size +
                       groups * fs->desc_size;
    if (gdt_end > fs->blocks_count * fs->block_size)
        return fail(fs, -EINVAL, "%llu block groups: their descriptors do not fit the "
                    "filesystem", (unsigned long long)groups);
    fs->groups = (uint32_t)groups;
    if (fs->inodes_count < ROOT_INO || fs->inodes_count > groups * fs->inodes_per_group)
        return fail(fs, -EINVAL, "%u inodes in %u groups of %u", fs->inodes_count, fs->groups,
                    fs->inodes_per_group);
    return 0;
}

int extfs_open(struct extfs *fs, const struct disk_src *d, uint64_t offset, uint64_t size,
               char err[BOOT_ERR_MAX])
{
    unsigned char sb[1024];

    *fs = (struct extfs){ .disk = d, .base = offset, .kind = "ext2", .err = err };
    if (size < 2 * SB_OFFSET || disk_read(d, offset + SB_OFFSET, sb, sizeof(sb))) {
        snprintf(err, BOOT_ERR_MAX, "no ext2/3/4 filesystem (too small for a superblock)");
        return -ENODEV;
    }
    if (le16(sb + 56) != SB_MAGIC) {
        snprintf(err, BOOT_ERR_MAX, "no ext2/3/4 filesystem (superblock magic 0x%04x)",
                 le16(sb + 56));
        return -ENODEV;
    }
    uint32_t compat = le32(sb + 92), incompat = le32(sb + 96);
    if (compat & COMPAT_HAS_JOURNAL)
        fs->kind = "ext3";
    if (incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG))
        fs->kind = "ext4";
    if (incompat & ~(uint32_t)INCOMPAT_READABLE)
        return fail(fs, -ENOTSUP, "incompatible features 0x%x that this reader does not "
                    "support (meta_bg, inline_data, encrypt, ...)",
                    incompat & ~(uint32_t)INCOMPAT_READABLE);
    fs->is_64bit = incompat & INCOMPAT_64BIT;
    fs->inode_size = le32(sb + 76) ? le16(sb + 88) : GOOD_OLD_ISIZE;
    fs->desc_size = fs->is_64bit ? le16(sb + 254) : 32;
    if (fs->inode_size < GOOD_OLD_ISIZE || !is_pow2(fs->inode_size) ||
        fs->inode_size > (1024u << (le32(sb + 24) & 7)))
        return fail(fs, -EINVAL, "inode size %u", fs->inode_size);
    if (fs->desc_size < 32 || fs->desc_size > 1024 || !is_pow2(fs->desc_size))
        return fail(fs, -EINVAL, "group descriptor size %u", fs->desc_size);
    return check_geometry(fs, sb, size);
}

static int read_inode(struct extfs *fs, uint32_t ino, struct inode *out)
{
    unsigned char gd[64], raw[INODE_READ];

    if (ino == 0 || ino > fs->inodes_count)
        return fail(fs, -EINVAL, "inode %u out of range (1..%u)", ino, fs->inodes_count);
    uint32_t group = (ino - 1) / fs->inodes_per_group, index = (ino - 1) % fs->inodes_per_group;
    uint64_t gd_off = (uint64_t)(fs->first_data_block + 1) * fs->block_size +
                      (uint64_t)group * fs->desc_size;
    int rc = fs_read(fs, gd_off, gd, fs->desc_size >= 64 ? 64 : 32);
    if (rc)
        return rc;
    uint64_t table = le32(gd + 8) | (fs->desc_size >= 64 ? (uint64_t)le32(gd + 0x28) << 32 : 0);
    if (table >= fs->blocks_count)
        return fail(fs, -EINVAL, "group %u: inode table at block %llu, out of range", group,
                    (unsigned long long)table);
    if ((rc = fs_read(fs, table * fs->block_size + (uint64_t)index * fs->inode_size, raw,
                      sizeof(raw))))
        return rc;
    *out = (struct inode){
        .ino = ino, .mode = le16(raw), .flags = le32(raw + 0x20),
        .size = le32(raw + 4) | (uint64_t)le32(raw + 0x6c) << 32,
    };
    memcpy(out->block, raw + I_BLOCK_OFF, I_BLOCK_LEN);
    return 0;
}

/*
 * Maps logical block LBLK of an extent-mapped inode: *PBLK (0 for a hole
 * or an uninitialized extent) and *RUN, the blocks from LBLK on that are
 * mapped the same way (contiguous, or all holes). SCRATCH is one block.
 */
static int map_extents(struct extfs *fs, const struct inode *in, uint32_t lblk, uint64_t *pblk,
                       uint64_t *run, unsigned char *scratch)
{
    const unsigned char *node = in->block;
    size_t node_len = I_BLOCK_LEN;
    uint64_t limit = UINT64_C(1) << 32; /* the first logical block past this subtree */
    int want_depth = -1;

    for (int level = 0; level <= EXTFS_MAX_DEPTH + 1; level++) {
        unsigned entries = le16(node + 2), depth = le16(node + 6);
        if (le16(node) != EXT_MAGIC)
            return fail(fs, -EINVAL, "inode %u: bad extent header magic 0x%04x", in->ino,
                        le16(node));
        if (depth > EXTFS_MAX_DEPTH)
            return fail(fs, -EINVAL, "inode %u: extent tree deeper than %d levels", in->ino,
                        EXTFS_MAX_DEPTH);
        if (want_depth >= 0 && depth != (unsigned)want_depth)
            return fail(fs, -EINVAL, "inode %u: extent node of depth %u below one of depth %d "
                        "(a loop?)", in->ino, depth, want_depth + 1);
        if (12 + (size_t)entries * 12 > node_len)
            return fail(fs, -EINVAL, "inode %u: %u extent entries do not fit their node",
                        in->ino, entries);
        const unsigned char *e = node + 12;
        unsigned i = 0;
        while (i < entries && le32(e + 12 * (i)) <= lblk)
            i++;
        if (i < entries && le32(e + 12 * i) < limit)
            limit = le32(e + 12 * i);
        if (depth == 0) {
            const unsigned char *x = i ? e + 12 * (i - 1) : NULL;
            uint32_t len = x ? le16(x + 4) : 0;
            bool uninit = len > EXT_INIT_MAX_LEN;
            if (uninit)
                len -= EXT_INIT_MAX_LEN;
            if (!x || lblk - le32(x) >= len) {
                *pblk = 0;
                *run = limit - lblk;
                return 0;
            }
            uint64_t start = le32(x + 8) | (uint64_t)le16(x + 6) << 32;
            if (start >= fs->blocks_count || len > fs->blocks_count - start)
                return fail(fs, -EINVAL, "inode %u: extent at block %llu+%u past the end of "
                            "the filesystem", in->ino, (unsigned long long)start, len);
            *pblk = uninit ? 0 : start + (lblk - le32(x));
            *run = le32(x) + (uint64_t)len - lblk;
            return 0;
        }
        if (i == 0) { /* before the first index entry: a hole */
            *pblk = 0;
            *run = limit - lblk;
            return 0;
        }
        const unsigned char *ix = e + 12 * (i - 1);
        uint64_t child = le32(ix + 4) | (uint64_t)le16(ix + 8) << 32;
        int rc = read_block(fs, child, scratch);
        if (rc)
            return rc;
        node = scratch;
        node_len = fs->block_size;
        want_depth = (int)depth - 1;
    }
    return fail(fs, -EINVAL, "inode %u: extent tree deeper than %d levels", in->ino,
                EXTFS_MAX_DEPTH);
}

/* As map_extents, for the ext2/3 direct and indirect block map (*RUN is 1). */
static int map_indirect(struct extfs *fs, const struct inode *in, uint32_t lblk, uint64_t *pblk,
                        uint64_t *run, unsigned char *scratch)
{
    uint64_t per = fs->block_size / 4, span = 1, idx = lblk;
    int levels = 0;

    *run = 1;
    if (idx < NDIR_BLOCKS) {
        *pblk = le32(in->block + 4 * idx);
        return 0;
    }
    idx -= NDIR_BLOCKS;
    for (levels = 1, span = per; levels <= 3 && idx >= span; levels++, span *= per)
        idx -= span;
    if (levels > 3)
        return fail(fs, -EINVAL, "inode %u: block %u past the triple indirect map", in->ino,
                    lblk);
    uint32_t ptr = le32(in->block + 4 * (NDIR_BLOCKS + levels - 1));
    for (; levels > 0 && ptr; levels--) {
        span /= per;
        int rc = read_block(fs, ptr, scratch);
        if (rc)
            return rc;
        ptr = le32(scratch + 4 * ((idx / span) % per));
    }
    *pblk = ptr;
    return 0;
}

static int map_block(struct extfs *fs, const struct inode *in, uint32_t lblk, uint64_t *pblk,
                     uint64_t *run, unsigned char *scratch)
{
    int rc = (in->flags & FL_EXTENTS) ? map_extents(fs, in, lblk, pblk, run, scratch)
                                      : map_indirect(fs, in, lblk, pblk, run, scratch);
    if (!rc && *pblk >= fs->blocks_count)
        return fail(fs, -EINVAL, "inode %u: block %llu out of range", in->ino,
                    (unsigned long long)*pblk);
    return rc;
}

/* Reads IN's bytes [0, LEN) into OUT (LEN <= IN's size), holes as zeros. */
static int read_data(struct extfs *fs, const struct inode *in, unsigned char *out, uint64_t len)
{
    unsigned char *scratch = malloc(fs->block_size);
    uint64_t pos = 0;
    int rc = 0;

    if (!scratch)
        return fail(fs, -ENOMEM, "out of memory");
    while (!rc && pos < len) {
        uint64_t pblk, run;
        uint32_t lblk = (uint32_t)(pos / fs->block_size);
        if ((rc = map_block(fs, in, lblk, &pblk, &run, scratch)))
            break;
        uint64_t n = run * fs->block_size;
        if (n > len - pos)
            n = len - pos;
        if (pblk)
            rc = fs_read(fs, pblk * fs->block_size, out + pos, n);
        else
            memset(out + pos, 0, n);
        pos += n;
    }
    free(scratch);
    return rc;
}

/* Decodes a directory entry's rec_len (64 KiB blocks store 65536 as 0 or 65535). */
static uint32_t rec_len(const struct extfs *fs, const unsigned char *de)
{
    uint32_t len = le16(de + 4);

    if (fs->block_size == 65536 && (len == 0 || len == 65535))
        return 65536;
    return len;
}

/* Looks NAME (LEN bytes) up in BLOCK of directory DIR: *INO, or 0 if absent. */
static int scan_dir_block(struct extfs *fs, const struct inode *dir, const unsigned char *block,
                          const char *name, size_t len, uint32_t *ino)
{
    for (uint32_t off = 0; off < fs->block_size;) {
        const unsigned char *de = block + off;
        uint32_t rl = off + 8 <= fs->block_size ? rec_len(fs, de) : 0;
        if (rl < 8 || rl % 4 || rl > fs->block_size - off || de[6] + 8u > rl)
            return fail(fs, -EINVAL, "directory inode %u: bad entry at offset %u (rec_len %u)",
                        dir->ino, off, rl);
        if (le32(de) && de[6] == len && !memcmp(de + 8, name, len)) {
            *ino = le32(de);
            return 0;
        }
        off += rl;
    }
    return 0;
}

/* Looks NAME up in directory DIR: *OUT, or -ENOENT. */
static int dir_lookup(struct extfs *fs, const struct inode *dir, const char *name, size_t len,
                      struct inode *out)
{
    if ((dir->mode & S_IFMT_) != S_IFDIR_)
        return -ENOTDIR;
    if (dir->size > fs->dir_budget)
        return fail(fs, -EFBIG, "directory inode %u: %llu bytes, past the %u MiB of directories "
                    "one lookup may read", dir->ino, (unsigned long long)dir->size,
                    EXTFS_MAX_DIR >> 20);
    fs->dir_budget -= dir->size;
    unsigned char *buf = malloc(2 * (size_t)fs->block_size);
    uint32_t ino = 0, nblocks = (uint32_t)(dir->size / fs->block_size);
    int rc = buf ? 0 : fail(fs, -ENOMEM, "out of memory");

    for (uint32_t lblk = 0; !rc && !ino && lblk < nblocks; lblk++) {
        uint64_t pblk, run;
        rc = map_block(fs, dir, lblk, &pblk, &run, buf + fs->block_size);
        if (!rc && pblk && !(rc = read_block(fs, pblk, buf)))
            rc = scan_dir_block(fs, dir, buf, name, len, &ino);
    }
    free(buf);
    if (rc)
        return rc;
    return ino ? read_inode(fs, ino, out) : -ENOENT;
}

/* The target of symlink IN into TARGET (NUL-terminated, fewer than EXTFS_MAX_PATH bytes). */
static int read_link(struct extfs *fs, const struct inode *in, char target[EXTFS_MAX_PATH])
{
    if (in->size == 0 || in->size >= EXTFS_MAX_PATH)
        return fail(fs, -EINVAL, "symlink inode %u: target of %llu bytes", in->ino,
                    (unsigned long long)in->size);
    if (in->size < I_BLOCK_LEN && !(in->flags & FL_EXTENTS))
        memcpy(target, in->block, in->size); /* a fast symlink: the text is in i_block */
    else if (read_data(fs, in, (unsigned char *)target, in->size))
        return -EINVAL;
    target[in->size] = '\0';
    if (strlen(target) != in->size)
        return fail(fs, -EINVAL, "symlink inode %u: NUL in its target", in->ino);
    return 0;
}

/*
 * Resolves PATH to its inode, following symlinks (at most EXTFS_MAX_LINKS).
 * -ENOENT (no message) if a component is missing.
 */
static int lookup(struct extfs *fs, const char *path, struct inode *out)
{
    char work[EXTFS_MAX_PATH], target[EXTFS_MAX_PATH];
    struct inode dir, child;
    unsigned links = 0;
    int rc;

    if (strlen(path) >= sizeof(work))
        return fail(fs, -ENAMETOOLONG, "path of %zu bytes", strlen(path));
    strcpy(work, path);
    fs->dir_budget = EXTFS_MAX_DIR;
    if ((rc = read_inode(fs, ROOT_INO, &dir)))
        return rc;
    char *p = work;
    for (;;) {
        while (*p == '/')
            p++;
        if (!*p) {
            *out = dir;
            return 0;
        }
        size_t len = strcspn(p, "/");
        if (len > 255)
            return -ENOENT;
        if ((rc = dir_lookup(fs, &dir, p, len, &child)))
            return rc;
        p += len;
        if ((child.mode & S_IFMT_) != S_IFLNK_) {
            dir = child;
            continue;
        }
        if (++links > EXTFS_MAX_LINKS)
            return fail(fs, -ELOOP, "%s: more than %d symlinks (a loop?)", path, EXTFS_MAX_LINKS);
        if ((rc = read_link(fs, &child, target)))
            return rc;
        if (strlen(target) + 1 + strlen(p) >= sizeof(work))
            return fail(fs, -ENAMETOOLONG, "%s: path too long after symlinks", path);
        if (target[0] == '/' && (rc = read_inode(fs, ROOT_INO, &dir)))
            return rc;
        size_t tlen = strlen(target);
        memmove(work + tlen + 1, p, strlen(p) + 1);
        memcpy(work, target, tlen);
        work[tlen] = '/';
        p = work;
    }
}

int extfs_read_file(struct extfs *fs, const char *path, size_t max, unsigned char **buf,
                    size_t *len)
{
    struct inode in;
    int rc = lookup(fs, path, &in);

    if (rc == -ENOTDIR)
        rc = -ENOENT;
    if (rc)
        return rc;
    if ((in.mode & S_IFMT_) != S_IFREG_)
        return fail(fs, -EINVAL, "%s: not a regular file", path);
    if (in.size > max)
        return fail(fs, -EFBIG, "%s: %llu bytes, more than the limit of %zu", path,
                    (unsigned long long)in.size, max);
    unsigned char *data = malloc(in.size + 1);
    if (!data)
        return fail(fs, -ENOMEM, "%s: out of memory for %llu bytes", path,
                    (unsigned long long)in.size);
    if ((rc = read_data(fs, &in, data, in.size))) {
        free(data);
        return rc;
    }
    data[in.size] = '\0';
    *buf = data;
    *len = in.size;
    return 0;
}
