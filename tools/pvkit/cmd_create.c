/*
 * cmd_create: `pvkit create [-c] [-n] [-q] CONFIG [KEY=VALUE ...]` and
 * `pvkit console` (cmd.h).
 *
 * CONFIG is looked for as xl and xm users expect (args_config_path:
 * a path, a file in the current directory, or /etc/pvkit/NAME[.cfg]);
 * KEY=VALUE arguments are parsed as config lines after the file's, so
 * they override it. -n checks everything that needs no hypervisor and
 * prints the result (xl's dry run; with a bootloader, what it chose from
 * the disk); -q drops the "Parsing config" line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "cfg.h"
#include "cmd.h"
#include "consoled.h"
#include "domcfg.h"
#include "monitor.h"
#include "util.h"

#define CONFIG_DIR "/etc/pvkit"

static void print_warning(void *arg, const char *msg)
{
    (void)arg;
    warn_msg("%s", msg);
}

/* The configuration of A's CONFIG and overrides into DC. 0 or 1 after one line. */
static int read_config(const struct args *a, char **path, struct domcfg *dc)
{
    struct cfg c;
    char err[CFG_ERR_MAX];
    char aerr[ARGS_ERR_MAX];
    int rc;

    for (int i = 1; i < a->nr_pos; i++)
        if (args_check_override(a->pos[i], aerr))
            return err_msg("create: %s", aerr);
    *path = args_config_path(a->pos[0], CONFIG_DIR);
    if (!args_flag(a, 'q'))
        fprintf(stderr, "Parsing config from %s\n", *path);
    cfg_init(&c);
    rc = cfg_parse_file(&c, *path, err);
    for (int i = 1; !rc && i < a->nr_pos; i++)
        rc = cfg_parse(&c, a->pos[i], strlen(a->pos[i]), "command line", err);
    if (!rc)
        rc = domcfg_from_cfg(&c, dc, print_warning, NULL, err);
    cfg_free(&c);
    if (rc) {
        free(*path);
        *path = NULL;
        return err_msg("%s", err);
    }
    return 0;
}

/*
 * -n: what would be built. With a bootloader it runs, so the output shows
 * what it chose from the disk. 0, or 1 after one line.
 */
static int print_dry_run(const struct domcfg *dc)
{
    struct boot_choice bc = { 0 };
    char err[BUILD_ERR_MAX], kernel[BUILD_ERR_MAX], ramdisk[BUILD_ERR_MAX];
    const char *cmdline = dc->cmdline;

    snprintf(kernel, sizeof(kernel), "%s", dc->kernel ? dc->kernel : "(none)");
    snprintf(ramdisk, sizeof(ramdisk), "%s", dc->ramdisk ? dc->ramdisk : "(none)");
    if (dc->bootloader) {
        if (build_run_bootloader(dc, &bc, err))
            return err_msg("%s", err);
        const char *disk = dc->disks[0].target;
        printf("bootloader: %s: %s partition %u, %s, entry \"%s\"\n", dc->bootloader, disk,
               bc.partition, bc.config ? bc.config : "(--kernel)", bc.title ? bc.title : "");
        snprintf(kernel, sizeof(kernel), "%s:%s (%zu bytes)", disk, bc.kernel_path,
                 bc.kernel_size);
        if (bc.ramdisk_path)
            snprintf(ramdisk, sizeof(ramdisk), "%s:%s (%zu bytes)", disk, bc.ramdisk_path,
                     bc.ramdisk_size);
        cmdline = bc.cmdline;
    }
    printf("name: %s\nmemory: %ld MiB\nmaxmem: %ld MiB\nvcpus: %ld\nmaxvcpus: %ld\n"
           "kernel: %s\nramdisk: %s\ncmdline: %s\non_poweroff: %s\non_reboot: %s\non_crash: %s\n"
           "disks: %zu\nvifs: %zu\n",
           dc->name, dc->memory_mib, dc->maxmem_mib, dc->vcpus, dc->maxvcpus, kernel, ramdisk,
           cmdline, domcfg_action_name(dc->on_poweroff), domcfg_action_name(dc->on_reboot),
           domcfg_action_name(dc->on_crash), dc->nr_disks, dc->nr_vifs);
    boot_choice_free(&bc);
    return 0;
}

int cmd_create(struct ctx *unused, const struct args *a)
{
    struct domcfg dc = {0};
    char *path = NULL;
    struct ctx c;
    struct build_images img;
    char err[BUILD_ERR_MAX];
    uint32_t domid;
    int status = 1;

    (void)unused;
    if (read_config(a, &path, &dc))
        return 1;
    if (args_flag(a, 'n')) {
        status = print_dry_run(&dc);
        domcfg_free(&dc);
        free(path);
        return status;
    }
    if (ctx_open(&c, NEED_HV | NEED_XS))
        goto out;
    if (build_check_and_load(&c, &dc, &img, err)) {
        err_msg("%s", err);
        goto out_ctx;
    }
    int rc = build_domain(&c, &dc, path, &img, &domid, err);
    build_images_free(&c, &img);
    if (rc) {
        err_msg("%s", err);
        goto out_ctx;
    }
    if (!args_flag(a, 'q'))
        fprintf(stderr, "Started domain %s (id=%u)\n", dc.name, domid);
    pid_t mon = monitor_start(&dc, path, domid);
    if (mon < 0)
        warn_msg("%s: no monitor (on_poweroff/on_reboot/on_crash will not act): %s", dc.name,
                 strerror((int)-mon));
    status = 0;
    if (args_flag(a, 'c')) {
        char id[16];
        snprintf(id, sizeof(id), "%u", domid);
        ctx_close(&c);
        fflush(NULL);
        execl("/proc/self/exe", PROG, "console", id, (char *)NULL); /* fresh state, as xl */
        status = err_msg("create -c: cannot run " PROG " console: %s", strerror(errno));
        goto out;
    }
out_ctx:
    ctx_close(&c);
out:
    domcfg_free(&dc);
    free(path);
    return status;
}

int cmd_console(struct ctx *c, const struct args *a)
{
    struct dominfo d;
    if (ctx_resolve_domu(c, a->pos[0], &d, "console: domain 0's console is this one"))
        return 1;
    return console_attach(CONSOLED_SOCKET, d.domid) ? 1 : 0;
}
