/*
 * bootloader: a guest's kernel, initrd and command line from its own
 * disk (bootloader.h).
 */
#include "bootloader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootcfg.h"
#include "extfs.h"
#include "util.h"

static const char *const config_paths[] = { BOOTLOADER_CONFIGS };

/* One line into ERR; returns RC. */
#define fail(err, rc, ...) errbuf_fail(err, BOOT_ERR_MAX, rc, __VA_ARGS__)

/* PATH, made absolute against the directory of CONFIG if it is relative. */
static char *resolve_path(const char *path, const char *config)
{
    if (path[0] == '/' || !config)
        return strdup(path);
    size_t dir = (size_t)(strrchr(config, '/') - config);
    char *s = malloc(dir + strlen(path) + 2);
    if (s)
        sprintf(s, "%.*s/%s", (int)dir, config, path);
    return s;
}

/* Reads PATH from FS, at most MAX bytes; a missing file is an error here. */
static int read_boot_file(struct extfs *fs, const char *path, size_t max, unsigned char **buf,
                          size_t *len, char err[BOOT_ERR_MAX])
{
    int rc = extfs_read_file(fs, path, max, buf, len);

    if (rc == -ENOENT)
        return fail(err, rc, "%s: %s: no such file", fs->kind, path);
    if (rc == -EFBIG)
        return fail(err, rc, "%s: %s: kernel and initrds larger than %u MiB together", fs->kind,
                    path, BOOTLOADER_MAX_FILES >> 20);
    return rc;
}

/* Appends the initrd PATH to OUT's ramdisk, 4-byte aligned as GRUB loads them. */
static int append_initrd(struct extfs *fs, const char *path, struct boot_choice *out,
                         char err[BOOT_ERR_MAX])
{
    size_t used = out->kernel_size + out->ramdisk_size;
    size_t pad = (4 - out->ramdisk_size % 4) % 4, len;
    unsigned char *data;

    if (used + pad >= BOOTLOADER_MAX_FILES)
        return fail(err, -EFBIG, "%s: %s: kernel and initrds larger than %u MiB together",
                    fs->kind, path, BOOTLOADER_MAX_FILES >> 20);
    int rc = read_boot_file(fs, path, BOOTLOADER_MAX_FILES - used - pad, &data, &len, err);
    if (rc)
        return rc;
    unsigned char *all = realloc(out->ramdisk, out->ramdisk_size + pad + len + 1);
    if (!all) {
        free(data);
        return fail(err, -ENOMEM, "out of memory for the initrd");
    }
    memset(all + out->ramdisk_size, 0, pad);
    memcpy(all + out->ramdisk_size + pad, data, len);
    free(data);
    out->ramdisk = all;
    out->ramdisk_size += pad + len;
    return 0;
}

/* The entry's arguments, then the request's. */
static char *join_args(const char *entry_args, const char *req_args)
{
    const char *e = entry_args ? entry_args : "", *r = req_args ? req_args : "";
    char *s = malloc(strlen(e) + strlen(r) + 2);

    if (s)
        sprintf(s, "%s%s%s", e, *e && *r ? " " : "", r);
    return s;
}

/*
 * Loads KERNEL, the INITRDS and the command line from FS into OUT, paths
 * resolved against CONFIG's directory (NULL: absolute already).
 */
static int load_files(struct extfs *fs, const char *config, const char *kernel,
                      char *const *initrds, unsigned nr_initrds, const char *entry_args,
                      const struct boot_request *req, struct boot_choice *out,
                      char err[BOOT_ERR_MAX])
{
    int rc;

    if (!(out->kernel_path = resolve_path(kernel, config)) ||
        !(out->cmdline = join_args(entry_args, req->args)))
        return fail(err, -ENOMEM, "out of memory");
    if ((rc = read_boot_file(fs, out->kernel_path, BOOTLOADER_MAX_FILES, &out->kernel,
                             &out->kernel_size, err)))
        return rc;
    for (unsigned i = 0; i < nr_initrds; i++) {
        char *path = resolve_path(initrds[i], config);
        if (!path)
            return fail(err, -ENOMEM, "out of memory");
        rc = append_initrd(fs, path, out, err);
        if (i == 0 && !rc)
            out->ramdisk_path = path;
        else
            free(path);
        if (rc)
            return rc;
    }
    return 0;
}

/* Reads the first boot config FS holds and loads what its chosen entry names. */
static int load_from_menu(struct extfs *fs, const struct boot_request *req,
                          struct boot_choice *out, char err[BOOT_ERR_MAX])
{
    for (size_t i = 0; i < sizeof(config_paths) / sizeof(*config_paths); i++) {
        unsigned char *text;
        size_t len;
        int rc = extfs_read_file(fs, config_paths[i], BOOTLOADER_MAX_CONFIG, &text, &len);
        if (rc == -ENOENT)
            continue;
        if (rc)
            return rc;
        struct boot_config *c = malloc(sizeof(*c));
        if (!c) {
            free(text);
            return fail(err, -ENOMEM, "out of memory");
        }
        char why[BOOT_ERR_MAX];
        rc = bootcfg_parse((const char *)text, len, strstr(config_paths[i], "extlinux"), c, why);
        free(text);
        int index = rc ? rc : bootcfg_choose(c, req->entry, why);
        if (index < 0) {
            bootcfg_free(c);
            free(c);
            return fail(err, index, "%s: %s", config_paths[i], why);
        }
        const struct boot_entry *e = &c->entries[index];
        if (!(out->config = strdup(config_paths[i])) || !(out->title = strdup(e->title)))
            rc = fail(err, -ENOMEM, "out of memory");
        else
            rc = load_files(fs, out->config, e->kernel, e->initrds, e->nr_initrds, e->args, req,
                            out, err);
        bootcfg_free(c);
        free(c);
        return rc;
    }
    return fail(err, -ENOENT, "%s: no boot config (/boot/grub/grub.cfg, extlinux.conf, ...)",
                fs->kind);
}

/* Loads from the filesystem of partition P. -ENODEV: none there; -ENOENT: no boot files. */
static int try_partition(const struct disk_src *d, const struct part *p,
                         const struct boot_request *req, struct boot_choice *out,
                         char err[BOOT_ERR_MAX])
{
    struct extfs fs;
    int rc = extfs_open(&fs, d, p->offset, p->size, err);

    if (rc)
        return rc;
    out->partition = p->number;
    if (!req->kernel)
        return load_from_menu(&fs, req, out, err);
    char *ramdisk = (char *)req->ramdisk;
    return load_files(&fs, NULL, req->kernel, &ramdisk, ramdisk ? 1 : 0, NULL, req, out, err);
}

/* How telling an error is: a broken filesystem beats a missing file beats no filesystem. */
static int error_rank(int rc)
{
    return rc == -ENODEV ? 1 : rc == -ENOENT ? 2 : 3;
}

/* Keeps in ERR the most telling of the errors seen so far (*BEST), naming partition P. */
static void keep_error(int rc, unsigned p, const char *why, int *best, char err[BOOT_ERR_MAX])
{
    if (*best && error_rank(rc) <= error_rank(*best))
        return;
    *best = rc;
    if (p)
        snprintf(err, BOOT_ERR_MAX, "partition %u: %.200s", p, why);
    else
        snprintf(err, BOOT_ERR_MAX, "%.200s", why);
}

int bootloader_load(const struct disk_src *d, const struct boot_request *req,
                    struct boot_choice *out, char err[BOOT_ERR_MAX])
{
    struct part parts[PART_MAX + 1];
    unsigned nr;
    char why[BOOT_ERR_MAX];
    int rc, best = 0;

    memset(out, 0, sizeof(*out));
    if ((rc = part_read_table(d, parts, &nr, why))) {
        keep_error(rc, 0, why, &best, err);
        nr = 0;
    }
    /* a filesystem on the whole disk whose boot block looks like an MBR: tried last */
    if (nr == 0 || parts[0].number != 0)
        parts[nr++] = (struct part){ .number = 0, .offset = 0, .size = d->size };
    for (unsigned i = 0; i < nr; i++) {
        if (!(rc = try_partition(d, &parts[i], req, out, why)))
            return 0;
        boot_choice_free(out);
        keep_error(rc, parts[i].number, why, &best, err);
    }
    return best;
}

static int fd_read(void *arg, uint64_t off, void *buf, size_t len)
{
    int fd = *(int *)arg;

    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf = (char *)buf + n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int bootloader_load_path(const char *path, const struct boot_request *req,
                         struct boot_choice *out, char err[BOOT_ERR_MAX])
{
    char why[BOOT_ERR_MAX];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    memset(out, 0, sizeof(*out));
    if (fd < 0)
        return fail(err, -errno, "%s: %s", path, strerror(errno));
    off_t size = fstat(fd, &st) ? -1 : S_ISREG(st.st_mode) ? st.st_size
               : S_ISBLK(st.st_mode) ? lseek(fd, 0, SEEK_END) : -1;
    if (size < 0) {
        close(fd);
        return fail(err, -EINVAL, "%s: neither a file nor a block device", path);
    }
    struct disk_src d = { .read = fd_read, .arg = &fd, .size = (uint64_t)size };
    int rc = bootloader_load(&d, req, out, why);
    close(fd);
    if (rc)
        fail(err, rc, "%s: %s", path, why);
    return rc;
}

/* A list of free()s, alike to domcfg_free by shape only: another struct's fields. */
void boot_choice_free(struct boot_choice *out)
{
    free(out->kernel);
    free(out->ramdisk);
    free(out->cmdline);
    free(out->kernel_path);
    free(out->ramdisk_path);
    free(out->config);
    free(out->title);
    memset(out, 0, sizeof(*out));
}
