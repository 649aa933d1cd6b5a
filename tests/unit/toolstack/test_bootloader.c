/*
 * Unit tests of the boot loader (tools/pvkit/bootloader.c and the
 * partition, extfs and bootcfg readers under it) on disk images that
 * tests/unit/toolstack/mkbootimages.sh builds in the directory given as
 * the first argument: what it reads must equal the files the images were
 * made from, and every hostile image must give one line and an -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootcfg.h"
#include "bootloader.h"
#include "extfs.h"
#include "util.h"

static const char *dir;
static char err[BOOT_ERR_MAX];

static char *img(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

/* Asserts BUF (LEN bytes) equals the file NAME under the image directory. */
static void assert_same_as(const unsigned char *buf, size_t len, const char *name)
{
    unsigned char *want;
    size_t want_len;

    assert_int_equal(read_whole_file(img(name), 64u << 20, &want, &want_len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, len);
    free(want);
}

static int load(const char *image, const struct boot_request *req, struct boot_choice *c)
{
    int rc = bootloader_load_path(img(image), req, c, err);
    if (rc) {
        assert_null(strchr(err, '\n'));
        assert_null(c->kernel);
    }
    return rc;
}

/* Loads image for req into *c, which must succeed choosing partition and the entry titled title. */
static void load_ok(const char *image, const struct boot_request *req, struct boot_choice *c,
                    int partition, const char *title)
{
    assert_int_equal(load(image, req, c), 0);
    assert_int_equal(c->partition, partition);
    assert_string_equal(c->title, title);
}

/* The kernel and initrd c holds are the test tree's vmlinuz-1 and initrd.img-1. */
static void assert_tree_files(const struct boot_choice *c)
{
    assert_same_as(c->kernel, c->kernel_size, "tree/boot/vmlinuz-1");
    assert_same_as(c->ramdisk, c->ramdisk_size, "tree/boot/initrd.img-1");
}

static void test_mbr_ext4_default(void **state)
{
    struct boot_request req = { 0 };
    struct boot_choice c;

    (void)state;
    load_ok("disk-mbr.img", &req, &c, 1, "Debian GNU/Linux"); /* the last `set default` wins: "1" */
    assert_string_equal(c.config, "/boot/grub/grub.cfg");
    assert_string_equal(c.kernel_path, "/vmlinuz");   /* a relative fast symlink */
    assert_string_equal(c.ramdisk_path, "/initrd.img"); /* an absolute one */
    assert_string_equal(c.cmdline, "root=/dev/xvda1 ro quiet");
    assert_tree_files(&c);
    boot_choice_free(&c);
}

static void test_gpt_extlinux(void **state)
{
    struct boot_request req = { .args = "console=hvc0" };
    struct boot_choice c;

    (void)state;
    /* partition 1 holds no filesystem; partition 2 an ext3 with extlinux.conf */
    load_ok("disk-gpt.img", &req, &c, 2, "The second one");
    assert_string_equal(c.config, "/boot/extlinux/extlinux.conf");
    assert_string_equal(c.cmdline, "root=/dev/xvda2 ro second console=hvc0");
    assert_tree_files(&c);
    boot_choice_free(&c);
}

static void test_whole_disk_after_table(void **state)
{
    struct boot_request req = { 0 };
    struct boot_choice c;

    (void)state;
    /* 0x55aa and a partition at sector 0 in an ext2 boot block: the whole disk is read */
    load_ok("bootsig.img", &req, &c, 0, "Debian GNU/Linux");
    boot_choice_free(&c);
}

static void test_ext2_block_maps(void **state)
{
    struct boot_request req = { .entry = "2>0" };
    struct boot_choice c;

    (void)state;
    /* 1 KiB blocks: the 700000-byte kernel needs the double indirect map */
    load_ok("ext2.img", &req, &c, 0, "Debian GNU/Linux, old");
    assert_string_equal(c.kernel_path, "/longlink"); /* "(hd0,msdos1)" dropped; a slow symlink */
    assert_string_equal(c.cmdline, "root=/dev/xvda1 ro quoted arg");
    assert_same_as(c.kernel, c.kernel_size, "tree/boot/vmlinuz-1");
    /* two initrds, the second 4-byte aligned after the first (1300001 bytes) */
    assert_int_equal(c.ramdisk_size, 1300004 + 5000);
    assert_memory_equal(c.ramdisk + 1300001, "\0\0\0", 3);
    boot_choice_free(&c);
}

static void test_entry_selection(void **state)
{
    static const struct { const char *entry, *title; } ok[] = {
        { "0", "Rescue" }, { "Rescue", "Rescue" }, { "gnulinux-simple", "Debian GNU/Linux" },
        { "old", "Debian GNU/Linux, old" }, { "2", "Debian GNU/Linux, old" },
        { "2>1", "Debian GNU/Linux, no initrd" },
    };
    struct boot_choice c;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        struct boot_request req = { .entry = ok[i].entry };
        assert_int_equal(load("ext4.img", &req, &c), 0);
        assert_string_equal(c.title, ok[i].title);
        boot_choice_free(&c);
    }
    struct boot_request none = { .entry = "9" };
    assert_int_equal(load("ext4.img", &none, &c), -ENOENT);
    assert_non_null(strstr(err, "ext4.img: /boot/grub/grub.cfg: no boot entry \"9\""));
    struct boot_request loop = { .entry = "Loop" };
    assert_int_equal(load("ext4.img", &loop, &c), -ELOOP);
    assert_non_null(strstr(err, "ext4: /loop1: more than 8 symlinks"));
}

static void test_request_kernel(void **state)
{
    struct boot_request req = { .kernel = "/boot/vmlinuz-1", .ramdisk = "/initrd.img",
                                .args = "root=/dev/xvda1 console=hvc0" };
    struct boot_choice c;

    (void)state;
    assert_int_equal(load("disk-mbr.img", &req, &c), 0);
    assert_null(c.config);
    assert_string_equal(c.cmdline, "root=/dev/xvda1 console=hvc0");
    assert_tree_files(&c);
    boot_choice_free(&c);
    req.kernel = "/boot/nope";
    assert_int_equal(load("disk-mbr.img", &req, &c), -ENOENT);
    assert_non_null(strstr(err, "partition 1: ext4: /boot/nope: no such file"));
}

static int fd_read(void *arg, uint64_t off, void *buf, size_t len)
{
    return pread(*(int *)arg, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

/* extfs directly: holes, the htree directory, missing files, the size cap. */
static void test_extfs_files(void **state)
{
    int fd = open(img("ext4.img"), O_RDONLY);
    struct stat st;
    struct extfs fs;
    unsigned char *buf;
    size_t len;

    (void)state;
    assert_true(fd >= 0 && fstat(fd, &st) == 0);
    struct disk_src d = { .read = fd_read, .arg = &fd, .size = (uint64_t)st.st_size };
    assert_int_equal(extfs_open(&fs, &d, 0, d.size, err), 0);
    assert_string_equal(fs.kind, "ext4");
    assert_int_equal(extfs_read_file(&fs, "/sparse", 32u << 20, &buf, &len), 0);
    assert_same_as(buf, len, "tree/sparse");
    free(buf);
    for (int i = 1; i <= 2000; i += 333) {
        char path[128], want[16];
        snprintf(path, sizeof(path), "/many/file-with-a-longish-name-%d", i);
        snprintf(want, sizeof(want), "%d\n", i);
        assert_int_equal(extfs_read_file(&fs, path, 100, &buf, &len), 0);
        assert_string_equal((char *)buf, want);
        free(buf);
    }
    assert_int_equal(extfs_read_file(&fs, "/boot/../boot/./grub//grub.cfg", 1 << 20, &buf, &len), 0);
    free(buf);
    assert_int_equal(extfs_read_file(&fs, "/many/file-with-a-longish-name-2001", 100, &buf, &len),
                     -ENOENT);
    assert_int_equal(extfs_read_file(&fs, "/boot/vmlinuz-1/x", 100, &buf, &len), -ENOENT);
    assert_int_equal(extfs_read_file(&fs, "/boot", 100, &buf, &len), -EINVAL);
    assert_string_equal(err, "ext4: /boot: not a regular file");
    /* a long walk through a big directory: bounded by the lookup's directory budget */
    char walk[EXTFS_MAX_PATH] = "";
    for (int i = 0; i < 400; i++)
        strcat(walk, "/many/..");
    strcat(walk, "/vmlinuz");
    assert_int_equal(extfs_read_file(&fs, walk, 1 << 20, &buf, &len), -EFBIG);
    assert_non_null(strstr(err, "past the 16 MiB of directories one lookup may read"));
    assert_int_equal(extfs_read_file(&fs, "/vmlinuz", 1000, &buf, &len), -EFBIG);
    assert_string_equal(err, "ext4: /vmlinuz: 700000 bytes, more than the limit of 1000");
    close(fd);
}

static void test_bootcfg(void **state)
{
    static const char grub[] =
        "set default='Second'\n"
        "menuentry \"First\" {\n linux /a\n}\n"
        "menuentry 'Second' {\n linux /b x=\"1 2\" y\\ z\n initrd /i1 /i2\n}\n"
        "menuentry 'No kernel' {\n echo hi\n}\n";
    struct boot_config *c = malloc(sizeof(*c));

    (void)state;
    assert_int_equal(bootcfg_parse(grub, strlen(grub), false, c, err), 0);
    assert_int_equal(c->nr, 3);
    assert_int_equal(bootcfg_choose(c, NULL, err), 1);
    assert_string_equal(c->entries[1].args, "x=1 2 y z");
    assert_int_equal(c->entries[1].nr_initrds, 2);
    assert_int_equal(bootcfg_choose(c, "2", err), -ENOENT);
    assert_string_equal(err, "boot entry \"No kernel\" loads no kernel");
    bootcfg_free(c);
    /* a default that names nothing is entry 0, as in GRUB */
    static const char saved[] = "set default=\"${saved_entry}\"\nmenuentry A {\nlinux /a\n}\n";
    assert_int_equal(bootcfg_parse(saved, strlen(saved), false, c, err), 0);
    assert_int_equal(bootcfg_choose(c, NULL, err), 0);
    bootcfg_free(c);
    assert_int_equal(bootcfg_parse("", 0, false, c, err), 0);
    assert_int_equal(bootcfg_choose(c, NULL, err), -ENOENT);
    /* limits: nesting, entries */
    char deep[128] = "";
    for (int i = 0; i < 9; i++)
        strcat(deep, "if x {\n");
    assert_int_equal(bootcfg_parse(deep, strlen(deep), false, c, err), -EINVAL);
    assert_string_equal(err, "blocks nested more than 8 deep");
    size_t cap = 300 * 32;
    char *many = malloc(cap), *p = many;
    for (int i = 0; i < 300; i++)
        p += sprintf(p, "menuentry e%d {\n}\n", i);
    assert_int_equal(bootcfg_parse(many, strlen(many), false, c, err), -EINVAL);
    assert_string_equal(err, "more than 256 boot entries");
    free(many);
    free(c);
}

/* Each damaged image: its -errno and the one line it gives. */
static void test_hostile_images(void **state)
{
    static const struct { const char *image; int rc; const char *msg; } bad[] = {
        { "trunc-disk.img", -EINVAL, "partition 1 (sectors 2048+98304) ends past the end of "
                                     "the disk (40960 sectors)" },
        { "partend.img", -EINVAL, "partition 1 (sectors 2048+16777215) ends past the end" },
        { "trunc-fs.img", -EINVAL, "ext4: 12288 blocks of 4096 bytes, but the partition holds "
                                   "8388608 bytes (truncated image?)" },
        { "badmagic.img", -ENODEV, "no ext2/3/4 filesystem (superblock magic 0x0000)" },
        { "blank.img", -ENODEV, "no ext2/3/4 filesystem (superblock magic 0x0000)" },
        { "hugebs.img", -EINVAL, "ext4: block size 1024 << 4294967295 (at most 64 KiB)" },
        { "zerobpg.img", -EINVAL, "ext4: 0 blocks per group" },
        { "inodes.img", -EINVAL, "ext4: 4294967295 inodes in " },
        { "smallinodes.img", -EINVAL, "ext4: inode 25 out of range (1..11)" },
        { "deep.img", -EINVAL, "ext4: inode 30: extent tree deeper than 5 levels" },
        { "loop.img", -EINVAL, "ext4: inode 30: extent node of depth 1 below one of depth 1" },
        { "reclen0.img", -EINVAL, "ext4: directory inode 2: bad entry at offset 0 (rec_len 0)" },
        { "reclenbig.img", -EINVAL, "ext4: directory inode 2: bad entry at offset 0 (rec_len 65520)" },
        { "ind.img", -EINVAL, "ext2: block 2147483647 out of range (40960 blocks)" },
        { "noconfig.img", -ENOENT, "ext4: no boot config (/boot/grub/grub.cfg" },
        { "no-such.img", -ENOENT, "no-such.img: No such file or directory" },
    };
    struct boot_request req = { 0 };
    struct boot_choice c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = load(bad[i].image, &req, &c);
        if (rc != bad[i].rc || !strstr(err, bad[i].msg))
            fail_msg("%s: rc %d, \"%s\"; want %d, \"%s\"", bad[i].image, rc, err, bad[i].rc,
                     bad[i].msg);
        assert_non_null(strstr(err, bad[i].image)); /* the line names the image */
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mbr_ext4_default),
        cmocka_unit_test(test_gpt_extlinux),
        cmocka_unit_test(test_ext2_block_maps),
        cmocka_unit_test(test_whole_disk_after_table),
        cmocka_unit_test(test_entry_selection),
        cmocka_unit_test(test_request_kernel),
        cmocka_unit_test(test_extfs_files),
        cmocka_unit_test(test_bootcfg),
        cmocka_unit_test(test_hostile_images),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s IMAGE_DIR (made by mkbootimages.sh)\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
