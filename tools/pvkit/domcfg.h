/*
 * domcfg: what an xl.cfg file (cfg.h) says about a PV domain, checked
 * before anything is built. The keys (xl.cfg(5)): name, memory, maxmem,
 * vcpus, maxvcpus, kernel, ramdisk, cmdline, extra, root, on_poweroff,
 * on_reboot, on_crash, disk (xl-disk-configuration(5)), vif
 * (xl-network-configuration(5)), type/builder (only "pv"/"linux"), and
 * bootloader/bootloader_args.
 *
 * bootloader = "pygrub" (or a path ending in /pygrub, as xl users write
 * "/usr/lib/xen/bin/pygrub") boots the kernel the first disk's own boot
 * menu names, read by pvkit's built-in loader (bootloader.h); kernel is
 * then not required, and kernel/ramdisk, if given, are paths inside the
 * guest's filesystem, as libxl passes them to pygrub (--kernel,
 * --ramdisk). bootloader_args (a list; a string is split on blanks, with
 * xl's warning) takes pygrub's --entry=N|TITLE, --kernel=, --ramdisk=
 * and --args= (the last wins, after the config's own, as with libxl);
 * -q/--quiet/-n/--not-really are accepted and others ignored with a
 * warning. The command line is the entry's arguments, then the
 * config's cmdline (or root=/extra), as pygrub --args appends it.
 *
 * Defaults and rules are libxl's and xl's where pvkit has the feature:
 * memory 32 MiB (libxl's default), maxmem = memory and not below it, vcpus
 * 1, maxvcpus = vcpus and not below it, on_poweroff "destroy", on_reboot
 * "restart", on_crash "destroy"; cmdline wins over root/extra (with xl's
 * warning), else "root=ROOT EXTRA". Where pvkit is stricter than xl it says
 * why: a name may not be all digits (`pvkit console 3` must mean domain 3)
 * nor hold '/' (it is a xenstore path component); a disk is a raw image or
 * a block device (pvkit's blkback has no qcow or vhd); keys xl does not
 * know, or that pvkit does not implement, are reported (xl silently
 * ignores unknown keys) but do not stop the create.
 *
 * Invariant: a domcfg owns its strings; domcfg_from_cfg fills it fully or
 * leaves it empty.
 */
#ifndef PVKIT_DOMCFG_H
#define PVKIT_DOMCFG_H

#include "cfg.h"

#define DOMCFG_NAME_MAX   63    /* bytes, as a xenstore path component allows comfortably */
#define DOMCFG_MAX_VCPUS  8     /* the hypervisor's MAX_VCPUS_PER_DOM */
#define DOMCFG_MEMORY_MAX (1L << 20) /* MiB: 1 TiB, far past any machine pvkit runs on */
#define DOMCFG_MAX_DISKS  16
#define DOMCFG_MAX_VIFS   8

enum domcfg_action { ACTION_DESTROY, ACTION_RESTART, ACTION_PRESERVE };

struct domcfg_disk {
    char *target;   /* the image file or block device, in dom0 */
    char *vdev;     /* the guest's name for it: xvdX, hdX or sdX */
    bool readonly;  /* access=ro; always for a cdrom */
    bool cdrom;     /* devtype=cdrom, "cdrom" or VDEV:cdrom */
};

struct domcfg_vif {
    char *bridge;   /* NULL: the toolstack's default bridge */
    char *ip;       /* NULL if not given */
    char *vifname;  /* NULL: vifDOMID.N */
    unsigned char mac[6];
    bool has_mac;   /* false: the toolstack picks 00:16:3e:xx:xx:xx */
};

struct domcfg {
    char *name;
    long memory_mib, maxmem_mib;
    long vcpus, maxvcpus;
    char *kernel, *ramdisk; /* ramdisk NULL if none; in the guest's disk with a bootloader,
                               where kernel may be NULL too (the menu chooses) */
    char *cmdline;          /* "" if none */
    enum domcfg_action on_poweroff, on_reboot, on_crash;
    struct domcfg_disk disks[DOMCFG_MAX_DISKS];
    size_t nr_disks;
    struct domcfg_vif vifs[DOMCFG_MAX_VIFS];
    size_t nr_vifs;
    char *bootloader;       /* NULL: boot kernel/ramdisk from dom0's files */
    char *bootloader_entry; /* --entry, NULL for the menu's default */
};

/* Called with each warning (one line, no newline). */
typedef void domcfg_warn_fn(void *arg, const char *msg);

/*
 * Reads the domain's settings from C into DC (which must be zeroed or
 * freed). 0 on success, with WARN called for each key that was ignored;
 * -EINVAL with one line in ERR ("SOURCE:LINE: KEY: WHY" when a setting is
 * at fault) and DC empty; -ENOMEM.
 */
int domcfg_from_cfg(struct cfg *c, struct domcfg *dc, domcfg_warn_fn *warn, void *arg,
                    char err[CFG_ERR_MAX]);

/*
 * One DISKSPEC (xl-disk-configuration(5)) into D, as a `disk` item is
 * read: 0, or -EINVAL/-ENOMEM with one line in ERR (no file or line
 * prefix: "vdev \"x\" is not xvdX, hdX or sdX") and D empty.
 */
int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, char err[CFG_ERR_MAX]);

/*
 * One VIFSPEC (xl-network-configuration(5)) into V, as a `vif` item is
 * read (WARN called for each ignored option): 0, or -EINVAL/-ENOMEM with
 * one line in ERR and V empty.
 */
int domcfg_parse_vif(const char *spec, struct domcfg_vif *v, domcfg_warn_fn *warn, void *arg,
                     char err[CFG_ERR_MAX]);

/* Free one disk's or vif's strings and leave it empty. */
void domcfg_disk_free(struct domcfg_disk *d);
void domcfg_vif_free(struct domcfg_vif *v);

/* Frees DC's strings and leaves it empty. */
void domcfg_free(struct domcfg *dc);

/* The name xl uses for an action ("destroy", "restart", "preserve"). */
const char *domcfg_action_name(enum domcfg_action a);

/* Parses a MAC address "xx:xx:xx:xx:xx:xx" (hex digits, either case). 0 or -EINVAL. */
int domcfg_parse_mac(const char *s, unsigned char mac[6]);

#endif
