/*
 * bootloader: pvkit's pygrub. Given a guest's disk image (a raw file or
 * a block device), it finds the kernel, initrd and command line the
 * guest's own boot menu would start, all in user space and read-only:
 * the partition table (partition.h), the ext2/3/4 filesystems on it
 * (extfs.h) and the boot config on them (bootcfg.h). dom0 never mounts
 * the image, so a hostile guest's filesystem only ever meets this
 * range-checked reader, not dom0's kernel.
 *
 * As pygrub: the partitions are tried in order, then the whole disk (a
 * filesystem whose boot block happens to end in 0x55aa); the first whose
 * filesystem holds a boot config
 * (BOOTLOADER_CONFIGS, in that order) is used, and its paths are read
 * from it. The chosen entry's arguments come first on the command line,
 * then the request's ARGS (what libxl passes as --args: the config's
 * cmdline or root=/extra). With a KERNEL in the request no config is
 * read: that file (and RAMDISK) are taken from the first filesystem that
 * holds it, with ARGS alone as the command line.
 *
 * Invariants: the kernel and initrds together are at most
 * BOOTLOADER_MAX_FILES bytes, a boot config at most BOOTLOADER_MAX_CONFIG;
 * a failure is -errno with one line in ERR and nothing allocated.
 */
#ifndef PVKIT_BOOTLOADER_H
#define PVKIT_BOOTLOADER_H

#include <stddef.h>

#include "partition.h"

#define BOOTLOADER_MAX_FILES  (256u << 20)
#define BOOTLOADER_MAX_CONFIG (1u << 20)
#define BOOTLOADER_CONFIGS   "/boot/grub/grub.cfg", "/grub/grub.cfg", "/boot/grub2/grub.cfg", \
                             "/grub2/grub.cfg", "/boot/extlinux/extlinux.conf", \
                             "/extlinux/extlinux.conf", "/boot/extlinux.conf", "/extlinux.conf"

/* What pygrub's options ask (bootloader_args and the config's kernel/ramdisk/cmdline). */
struct boot_request {
    const char *entry;      /* --entry: index, "N>M", title or id; NULL: the default */
    const char *kernel;     /* --kernel: a path in the guest's filesystem; NULL: from the menu */
    const char *ramdisk;    /* --ramdisk: likewise, only with kernel */
    const char *args;       /* --args: appended to the entry's arguments; NULL or "" for none */
};

struct boot_choice {
    unsigned char *kernel; size_t kernel_size;   /* the file as stored (a bzImage, say) */
    unsigned char *ramdisk; size_t ramdisk_size; /* the initrds one after the other; NULL if none */
    char *cmdline;
    char *kernel_path, *ramdisk_path;            /* in the guest's filesystem; ramdisk NULL if none */
    char *config;                                /* the boot config read, NULL with --kernel */
    char *title;                                 /* the chosen entry, NULL with --kernel */
    unsigned partition;                          /* 1-based; 0 for a disk without a table */
};

/* Loads what REQ asks from disk D into *OUT. 0, or -errno with one line in ERR. */
int bootloader_load(const struct disk_src *d, const struct boot_request *req,
                    struct boot_choice *out, char err[BOOT_ERR_MAX]);

/*
 * bootloader_load on the image or block device PATH, opened read-only;
 * ERR's line starts with "PATH: ".
 */
int bootloader_load_path(const char *path, const struct boot_request *req,
                         struct boot_choice *out, char err[BOOT_ERR_MAX]);

/* Frees OUT's buffers and strings and leaves it empty. */
void boot_choice_free(struct boot_choice *out);

#endif
