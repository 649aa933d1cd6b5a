/*
 * build: a domain from a checked configuration (domcfg.h), all or
 * nothing. The checks come first, before anything is built: the name is
 * free, the vCPUs within the hypervisor's limit, the memory within what
 * the hypervisor has free, the kernel readable and a PV kernel (a bzImage
 * unpacked, kernel.h), the ramdisk readable; with a bootloader, kernel,
 * initrd and command line come from the first disk (bootloader.h); the
 * disks' images there and the backend daemons their devices need running
 * in dom0 (devices.h). Then PVKIT_DOMCTL_create_pv
 * builds it paused, XEN_DOMCTL_max_mem sets maxmem, the store tree is
 * written and the domain introduced (store.h), and it is unpaused. If a
 * step after create_pv fails, the domain is destroyed and its store
 * entries removed, so a failed create leaves nothing behind.
 *
 * Used by `create` and by the monitor (monitor.h) to restart a domain.
 */
#ifndef PVKIT_BUILD_H
#define PVKIT_BUILD_H

#include <stdint.h>

#include "bootloader.h"
#include "cmd.h"
#include "domcfg.h"

#define BUILD_ERR_MAX 512

/* The images a build loads: kernel (unpacked) and ramdisk, in hypercall buffers. */
struct build_images {
    void *kernel; size_t kernel_size;
    void *ramdisk; size_t ramdisk_size;
    char *cmdline; size_t cmdline_size;
};

/*
 * Checks DC against the running system and loads its images into IMG.
 * 0, or -errno with one line in ERR ("NAME: a domain with this name
 * exists (id 3)", "NAME: 4096 MiB of memory asked, the hypervisor has
 * 900 MiB free", "/x: No such file or directory", ...). Nothing is built.
 */
int build_check_and_load(struct ctx *c, const struct domcfg *dc, struct build_images *img,
                         char err[BUILD_ERR_MAX]);

/*
 * Runs the boot loader DC names (dc->bootloader set) on DC's first disk:
 * 0 and *OUT (boot_choice_free), or -errno with one line in ERR
 * ("/img/g.img: partition 1: ext4: no boot config (...)").
 */
int build_run_bootloader(const struct domcfg *dc, struct boot_choice *out,
                         char err[BUILD_ERR_MAX]);

/* Frees IMG's buffers. */
void build_images_free(struct ctx *c, struct build_images *img);

/*
 * Builds, records and starts the domain DC describes from IMG (CONFIG is
 * the file's path, recorded in the store). 0 and *DOMID; else -errno with
 * one line in ERR and nothing left behind.
 */
int build_domain(struct ctx *c, const struct domcfg *dc, const char *config,
                 const struct build_images *img, uint32_t *domid, char err[BUILD_ERR_MAX]);

#endif
