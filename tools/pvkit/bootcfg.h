/*
 * bootcfg: a guest's boot menu, read from its GRUB 2 grub.cfg or its
 * extlinux.conf, and the entry a boot loader would start.
 *
 * grub.cfg: `menuentry TITLE [options] [--id ID | $menuentry_id_option ID] {`
 * blocks holding `linux`/`linux16`/`linuxefi PATH ARGS...` and
 * `initrd`/`initrd16`/`initrdefi PATH...` (several initrds are loaded one
 * after the other, as GRUB does); `submenu TITLE {` blocks of entries;
 * `set default=N`, `N>M` (entry M of submenu N), a title or an id (the
 * last `set default` wins; one that names nothing, such as
 * "${saved_entry}", means entry 0, as in GRUB). A "(hd0,msdos1)" device
 * before a path is dropped. Other commands, `if` blocks and `function`
 * blocks are skipped; variables are not expanded.
 *
 * extlinux.conf: LABEL, KERNEL/LINUX, INITRD (comma-separated), APPEND,
 * MENU LABEL, MENU DEFAULT and DEFAULT LABEL; keywords in any case.
 *
 * Invariants: at most BOOTCFG_MAX_ENTRIES entries, BOOTCFG_MAX_INITRDS
 * initrds each and BOOTCFG_MAX_NEST nested blocks; a parsed config owns
 * its strings; parsing never fails on what it does not understand, only
 * on limits and memory.
 */
#ifndef PVKIT_BOOTCFG_H
#define PVKIT_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "partition.h"

#define BOOTCFG_MAX_ENTRIES 256
#define BOOTCFG_MAX_INITRDS 8
#define BOOTCFG_MAX_NEST    8

struct boot_entry {
    char *title;
    char *id;                       /* NULL if none */
    char *kernel;                   /* NULL if the entry loads none */
    char *args;                     /* "" if none */
    char *initrds[BOOTCFG_MAX_INITRDS];
    unsigned nr_initrds;
    int top, sub;                   /* menu position: top-level item, entry in its submenu or -1 */
};

struct boot_config {
    struct boot_entry entries[BOOTCFG_MAX_ENTRIES];
    unsigned nr;
    char *default_entry;            /* `set default=` / DEFAULT, NULL if none */
};

/*
 * Parses TEXT (LEN bytes) as a grub.cfg (EXTLINUX false) or an
 * extlinux.conf into *C (zeroed by this call). 0, or -EINVAL / -ENOMEM
 * with one line in ERR (more than BOOTCFG_MAX_ENTRIES entries, ...).
 */
int bootcfg_parse(const char *text, size_t len, bool extlinux, struct boot_config *c,
                  char err[BOOT_ERR_MAX]);

/*
 * The entry to boot: SELECT if not NULL (an index "N", "N>M", a title or
 * an id, as pygrub's --entry), else C's default, else entry 0. Only
 * entries with a kernel count. Its index in C->entries, or -ENOENT with
 * one line in ERR (no bootable entry, or SELECT names none).
 */
int bootcfg_choose(const struct boot_config *c, const char *select, char err[BOOT_ERR_MAX]);

/* Frees C's strings and leaves it empty. */
void bootcfg_free(struct boot_config *c);

#endif
