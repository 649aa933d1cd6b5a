/*
 * domcfg: xl.cfg keys to a checked domain description (domcfg.h). Every
 * check runs before the caller builds anything; on any error the partly
 * filled domcfg is freed, so the caller sees all or nothing.
 */
#include "domcfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys this file reads; any other key set in the file is reported. */
static const char *const known_keys[] = {
    "name", "memory", "maxmem", "vcpus", "maxvcpus", "kernel", "ramdisk", "cmdline",
    "extra", "root", "on_poweroff", "on_reboot", "on_crash", "disk", "vif", "type",
    "builder", "bootloader", "bootloader_args",
};

struct ctx {
    struct cfg *c;
    struct domcfg *dc;
    domcfg_warn_fn *warn;
    void *arg;
    char *err;
};

/* Takes a leading "item N: " off MSG (one spec alone has no items). */
static void drop_item(char *msg)
{
    char *rest = strstr(msg, ": ");
    if (!strncmp(msg, "item ", 5) && rest)
        memmove(msg, rest + 2, strlen(rest + 2) + 1);
}

/*
 * "SOURCE:LINE: KEY: " for KEY's setting, then FMT. Returns -EINVAL.
 * Without a config (one spec on a command line, domcfg_parse_disk/_vif)
 * the line is FMT alone, less its leading "item N: ".
 */
static int __attribute__((format(printf, 3, 4)))
setting_error(struct ctx *x, const char *key, const char *fmt, ...)
{
    struct cfg_setting *s = x->c ? cfg_find(x->c, key) : NULL;
    int n = s ? snprintf(x->err, CFG_ERR_MAX, "%s:%d: %s: ", s->source, s->line, key)
          : x->c ? snprintf(x->err, CFG_ERR_MAX, "%s: ", key) : 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->err + n, CFG_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    if (!x->c)
        drop_item(x->err);
    cfg_one_line(x->err);
    return -EINVAL;
}

/* Calls the warn hook with "SOURCE:LINE: KEY: " then FMT; without S, FMT
 * alone less its "item N: ". */
static void __attribute__((format(printf, 3, 4)))
setting_warn(struct ctx *x, const struct cfg_setting *s, const char *fmt, ...)
{
    char msg[CFG_ERR_MAX];
    int n = s ? snprintf(msg, sizeof(msg), "%s:%d: %s: ", s->source, s->line, s->key) : 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    if (!s)
        drop_item(msg);
    cfg_one_line(msg);
    if (x->warn)
        x->warn(x->arg, msg);
}

/* *OUT = a copy of KEY's string, or of DEF (NULL allowed) if KEY is not set. */
static int get_str(struct ctx *x, const char *key, const char *def, char **out)
{
    const char *v = def;
    int rc = cfg_get_string(x->c, key, &v, x->err);

    if (rc && rc != -ENOENT)
        return rc;
    if (!v) {
        *out = NULL;
        return 0;
    }
    *out = strdup(v);
    return *out ? 0 : -ENOMEM;
}

static int get_num(struct ctx *x, const char *key, long min, long max, long def, long *out)
{
    int rc = cfg_get_long(x->c, key, min, max, out, x->err);

    if (rc == -ENOENT) {
        *out = def;
        return 0;
    }
    return rc;
}

static int get_action(struct ctx *x, const char *key, enum domcfg_action def,
                      enum domcfg_action *out)
{
    static const char *const unsupported[] = {
        "rename-restart", "coredump-destroy", "coredump-restart", "soft-reset",
    };
    const char *v;
    int rc = cfg_get_string(x->c, key, &v, x->err);

    *out = def;
    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    for (enum domcfg_action a = ACTION_DESTROY; a <= ACTION_PRESERVE; a++)
        if (!strcmp(v, domcfg_action_name(a))) {
            *out = a;
            return 0;
        }
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++)
        if (!strcmp(v, unsupported[i]))
            return setting_error(x, key, "action \"%s\" is not supported by pvkit "
                                 "(destroy, restart or preserve)", v);
    return setting_error(x, key, "unknown action \"%s\" (destroy, restart or preserve)", v);
}

static int check_name(struct ctx *x)
{
    const char *n = x->dc->name;
    bool digits = true;

    if (!n)
        return setting_error(x, "name", "a domain name must be given");
    if (!*n || strlen(n) > DOMCFG_NAME_MAX)
        return setting_error(x, "name", "must be 1 to %d characters", DOMCFG_NAME_MAX);
    for (const char *p = n; *p; p++) {
        if (*p == '/' || !isgraph((unsigned char)*p))
            return setting_error(x, "name", "\"%s\": only printable characters other "
                                 "than '/' and space", n);
        digits = digits && isdigit((unsigned char)*p);
    }
    if (digits)
        return setting_error(x, "name", "\"%s\" is all digits, which would read as a "
                             "domain id", n);
    return 0;
}

/* type = "pv" / builder = "linux": the only kind of domain pvkit builds. */
static int check_type(struct ctx *x)
{
    const char *v;
    int rc = cfg_get_string(x->c, "type", &v, x->err);

    if (rc == 0 && strcmp(v, "pv"))
        return setting_error(x, "type", "\"%s\": pvkit builds only PV domains (type = \"pv\")", v);
    if (rc && rc != -ENOENT)
        return rc;
    rc = cfg_get_string(x->c, "builder", &v, x->err);
    if (rc == 0 && strcmp(v, "linux"))
        return setting_error(x, "builder", "\"%s\": pvkit builds only PV domains "
                             "(builder = \"linux\")", v);
    return rc == -ENOENT ? 0 : rc;
}

static int read_cmdline(struct ctx *x)
{
    char *cmdline, *root = NULL, *extra = NULL; /* get_str sets neither on failure */
    int rc = get_str(x, "cmdline", NULL, &cmdline);

    if (rc)
        return rc;
    if ((rc = get_str(x, "root", NULL, &root)) || (rc = get_str(x, "extra", NULL, &extra))) {
        free(cmdline);
        free(root);
        return rc;
    }
    if (cmdline && (root || extra)) {
        setting_warn(x, cfg_find(x->c, root ? "root" : "extra"),
                     "ignoring root= and extra= in favour of cmdline=");
    } else if (!cmdline) {
        size_t n = (root ? strlen(root) + 6 : 0) + (extra ? strlen(extra) + 1 : 0) + 1;
        cmdline = malloc(n);
        if (cmdline)
            snprintf(cmdline, n, "%s%s%s%s", root ? "root=" : "", root ? root : "",
                     root && extra ? " " : "", extra ? extra : "");
    }
    free(root);
    free(extra);
    x->dc->cmdline = cmdline;
    return cmdline ? 0 : -ENOMEM;
}

static bool valid_vdev(const char *v)
{
    const char *p = v;

    if (!strncmp(p, "xvd", 3))
        p += 3;
    else if (!strncmp(p, "hd", 2) || !strncmp(p, "sd", 2))
        p += 2;
    else
        return false;
    if (!islower((unsigned char)*p))
        return false;
    while (islower((unsigned char)*p))
        p++;
    while (isdigit((unsigned char)*p))
        p++;
    return !*p && p - v <= 12;
}

static char *trim(char *s)
{
    char *e = s + strlen(s);

    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return s;
}

enum { DISK_TARGET, DISK_FORMAT, DISK_VDEV, DISK_ACCESS, DISK_NR_POS };
static const char *const disk_pos_names[DISK_NR_POS] = { "target", "format", "vdev", "access" };

/* Sets positional-or-named parameter P of a disk spec; -EINVAL if given twice. */
static int disk_set(struct ctx *x, size_t item, char *vals[DISK_NR_POS], int p, char *v)
{
    if (vals[p])
        return setting_error(x, "disk", "item %zu: %s given twice", item, disk_pos_names[p]);
    vals[p] = v;
    return 0;
}

/* A named disk parameter other than the positional ones: only the values
 * that describe what pvkit does are accepted. */
static int disk_option(struct ctx *x, size_t item, const char *key, const char *val,
                       bool *cdrom)
{
    if (!strcmp(key, "devtype") && !strcmp(val, "cdrom")) {
        *cdrom = true;
        return 0;
    }
    if ((!strcmp(key, "devtype") && !strcmp(val, "disk")) ||
        (!strcmp(key, "backendtype") && !strcmp(val, "phy")) ||
        (!strcmp(key, "backend") && (!strcmp(val, "0") || !strcmp(val, "Domain-0"))))
        return 0;
    if (!strcmp(key, "devtype") || !strcmp(key, "backendtype") || !strcmp(key, "backend"))
        return setting_error(x, "disk", "item %zu: %s=%s is not supported by pvkit", item,
                             key, val);
    return setting_error(x, "disk", "item %zu: unknown parameter \"%s\"", item, key);
}

/*
 * Takes a deprecated "raw:"/"file:"/"phy:"/"aio:" prefix off target *T; such
 * a prefix implies the format (raw), so the next positional parameter is
 * the vdev, as in xl's "phy:/dev/vg/x,xvda,w".
 */
static int disk_target_prefix(struct ctx *x, size_t item, char **t, char *vals[DISK_NR_POS])
{
    static const char *const ok[] = { "raw:", "file:", "phy:", "aio:" };
    char *colon = strchr(*t, ':');

    if (!colon || (*t)[0] == '/')
        return 0;
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
        if (!strncmp(*t, ok[i], strlen(ok[i]))) {
            *t += strlen(ok[i]);
            if (!vals[DISK_FORMAT])
                vals[DISK_FORMAT] = "raw";
            return 0;
        }
    return setting_error(x, "disk", "item %zu: target prefix \"%.*s\": pvkit's blkback serves "
                         "raw images and block devices only", item, (int)(colon - *t + 1), *t);
}

/* One DISKSPEC (xl-disk-configuration(5)) into OUT, a struct domcfg_disk.
 * SPEC is modified. */
static int parse_disk(struct ctx *x, size_t item, char *spec, void *out)
{
    struct domcfg_disk *d = out;
    char *vals[DISK_NR_POS] = { 0 };
    int next_pos = 0, rc;
    bool cdrom = false;

    for (char *tok = spec, *end; tok; tok = end) {
        end = strchr(tok, ',');
        if (!strncmp(trim(tok), "target=", 7))
            end = NULL; /* target= takes the rest of the spec, commas and all */
        else if (end)
            *end++ = '\0';
        tok = trim(tok);
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = '\0';
            char *key = trim(tok), *val = trim(eq + 1);
            int p;
            for (p = 0; p < DISK_NR_POS && strcmp(key, disk_pos_names[p]); p++)
                ;
            if (p == DISK_TARGET && (rc = disk_target_prefix(x, item, &val, vals)))
                return rc;
            if (p < DISK_NR_POS) {
                if ((rc = disk_set(x, item, vals, p, val)))
                    return rc;
            } else if ((rc = disk_option(x, item, key, val, &cdrom))) {
                return rc;
            }
        } else if (!strcmp(tok, "cdrom")) {
            cdrom = true;
        } else {
            while (next_pos < DISK_NR_POS && vals[next_pos])
                next_pos++;
            if (next_pos == DISK_NR_POS)
                return setting_error(x, "disk", "item %zu: too many positional parameters "
                                     "(near \"%s\")", item, tok);
            if (next_pos == DISK_TARGET && (rc = disk_target_prefix(x, item, &tok, vals)))
                return rc;
            if (*tok)
                vals[next_pos] = tok;
            next_pos++;
        }
    }
    if (!vals[DISK_TARGET] || !*vals[DISK_TARGET])
        return setting_error(x, "disk", "item %zu: no target (image file or device)", item);
    if (vals[DISK_FORMAT] && strcmp(vals[DISK_FORMAT], "raw"))
        return setting_error(x, "disk", "item %zu: format %s: pvkit's blkback serves raw images "
                             "only", item, vals[DISK_FORMAT]);
    if (!vals[DISK_VDEV])
        return setting_error(x, "disk", "item %zu: no vdev (xvda, ...)", item);
    char *suffix = strchr(vals[DISK_VDEV], ':'); /* deprecated "hdc:cdrom" */
    if (suffix && (!strcmp(suffix, ":cdrom") || !strcmp(suffix, ":disk"))) {
        cdrom |= suffix[1] == 'c';
        *suffix = '\0';
    }
    if (!valid_vdev(vals[DISK_VDEV]))
        return setting_error(x, "disk", "item %zu: vdev \"%s\" is not xvdX, hdX or sdX", item,
                             vals[DISK_VDEV]);
    const char *a = vals[DISK_ACCESS] ? vals[DISK_ACCESS] : "rw";
    if (strcmp(a, "rw") && strcmp(a, "w") && strcmp(a, "ro") && strcmp(a, "r"))
        return setting_error(x, "disk", "item %zu: access \"%s\" is not ro or rw", item, a);
    d->readonly = cdrom || (a[0] == 'r' && a[1] != 'w');
    d->cdrom = cdrom;
    d->target = strdup(vals[DISK_TARGET]);
    d->vdev = strdup(vals[DISK_VDEV]);
    return d->target && d->vdev ? 0 : -ENOMEM;
}

/* Parses item ITEM (from 1) of a device list, SPEC (a copy it may cut up), into OUT. */
typedef int parse_item_fn(struct ctx *x, size_t item, char *spec, void *out);

/* Parses the device list KEY ("disk", "vif"), none if it is absent and
 * refused beyond MAX items: item i by PARSE into FIRST + i * SIZE, *NR
 * counting the items begun (domcfg_free frees them on failure). 0 or -errno. */
static int read_device_list(struct ctx *x, const char *key, size_t max, parse_item_fn *parse,
                            void *first, size_t size, size_t *nr)
{
    struct cfg_value **items;
    size_t n;
    int rc = cfg_get_list(x->c, key, &items, &n, x->err);

    if (rc == -ENOENT)
        return 0;
    if (rc)
        return rc;
    if (n > max)
        return setting_error(x, key, "%zu %ss, pvkit allows %zu", n, key, max);
    for (size_t i = 0; i < n; i++) {
        char *spec = strdup(items[i]->str);
        if (!spec)
            return -ENOMEM;
        *nr = i + 1;
        rc = parse(x, i + 1, spec, (char *)first + i * size);
        free(spec);
        if (rc)
            return rc;
    }
    return 0;
}

/* parse_disk for item ITEM of the disk list, refusing a vdev an earlier item uses. */
static int parse_listed_disk(struct ctx *x, size_t item, char *spec, void *out)
{
    struct domcfg_disk *d = out;
    int rc = parse_disk(x, item, spec, d);

    for (size_t j = 0; !rc && j + 1 < item; j++)
        if (!strcmp(x->dc->disks[j].vdev, d->vdev))
            return setting_error(x, "disk", "items %zu and %zu both use vdev %s", j + 1, item,
                                 d->vdev);
    return rc;
}

static int read_disks(struct ctx *x)
{
    return read_device_list(x, "disk", DOMCFG_MAX_DISKS, parse_listed_disk, x->dc->disks,
                            sizeof(x->dc->disks[0]), &x->dc->nr_disks);
}

int domcfg_parse_mac(const char *s, unsigned char mac[6])
{
    for (int i = 0; i < 6; i++, s += 3) {
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
            s[2] != (i < 5 ? ':' : '\0'))
            return -EINVAL;
        char hex[3] = { s[0], s[1], '\0' };
        mac[i] = (unsigned char)strtoul(hex, NULL, 16);
    }
    return 0;
}

/* One VIFSPEC (xl-network-configuration(5)) into OUT, a struct domcfg_vif.
 * SPEC is modified. */
static int parse_vif(struct ctx *x, size_t item, char *spec, void *out)
{
    struct domcfg_vif *v = out;
    static const char *const ignored[] = { "type", "model", "script", "rate", "mtu",
                                           "gatewaydev" };
    char **slot;

    for (char *tok = spec, *end; tok; tok = end) {
        end = strchr(tok, ',');
        if (end)
            *end++ = '\0';
        tok = trim(tok);
        if (!*tok)
            continue;
        char *eq = strchr(tok, '=');
        if (!eq)
            return setting_error(x, "vif", "item %zu: \"%s\" is not KEY=VALUE", item, tok);
        *eq = '\0';
        char *key = trim(tok), *val = trim(eq + 1);
        if (!strcmp(key, "mac")) {
            if (domcfg_parse_mac(val, v->mac))
                return setting_error(x, "vif", "item %zu: mac \"%s\" is not xx:xx:xx:xx:xx:xx",
                                     item, val);
            if (v->mac[0] & 1)
                return setting_error(x, "vif", "item %zu: mac %s is a multicast address",
                                     item, val);
            v->has_mac = true;
            continue;
        }
        if (!strcmp(key, "backend")) {
            if (strcmp(val, "0") && strcmp(val, "Domain-0"))
                return setting_error(x, "vif", "item %zu: backend %s: pvkit's backends run "
                                     "in domain 0", item, val);
            continue;
        }
        slot = !strcmp(key, "bridge") ? &v->bridge : !strcmp(key, "ip") ? &v->ip
             : !strcmp(key, "vifname") ? &v->vifname : NULL;
        if (slot) {
            free(*slot);
            if (!(*slot = strdup(val)))
                return -ENOMEM;
            continue;
        }
        bool known = false;
        for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
            known = known || !strcmp(key, ignored[i]);
        setting_warn(x, x->c ? cfg_find(x->c, "vif") : NULL,
                     known ? "item %zu: %s is ignored by pvkit" : "item %zu: unrecognized option %s",
                     item, key);
    }
    return 0;
}

static int read_vifs(struct ctx *x)
{
    return read_device_list(x, "vif", DOMCFG_MAX_VIFS, parse_vif, x->dc->vifs,
                            sizeof(x->dc->vifs[0]), &x->dc->nr_vifs);
}

static int read_sizes(struct ctx *x)
{
    struct domcfg *dc = x->dc;
    int rc;

    if ((rc = get_num(x, "memory", 1, DOMCFG_MEMORY_MAX, 32, &dc->memory_mib)) ||
        (rc = get_num(x, "maxmem", 1, DOMCFG_MEMORY_MAX, dc->memory_mib, &dc->maxmem_mib)) ||
        (rc = get_num(x, "vcpus", 1, DOMCFG_MAX_VCPUS, 1, &dc->vcpus)) ||
        (rc = get_num(x, "maxvcpus", 1, DOMCFG_MAX_VCPUS, dc->vcpus, &dc->maxvcpus)))
        return rc;
    if (dc->maxmem_mib < dc->memory_mib)
        return setting_error(x, "maxmem", "%ld MiB is less than memory (%ld MiB)",
                             dc->maxmem_mib, dc->memory_mib);
    if (dc->maxvcpus < dc->vcpus)
        return setting_error(x, "maxvcpus", "%ld is less than vcpus (%ld)", dc->maxvcpus,
                             dc->vcpus);
    return 0;
}

/* Replaces *SLOT with a copy of VALUE. */
static int replace_str(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
    return *slot ? 0 : -ENOMEM;
}

/* One pygrub option ARG of bootloader_args (VALUE: the next item, for "--entry N"). */
static int bootloader_option(struct ctx *x, const char *arg, const char *next, bool *used_next)
{
    static const char *const opts[] = { "--entry", "--kernel", "--ramdisk", "--args" };
    char **slots[] = { &x->dc->bootloader_entry, &x->dc->kernel, &x->dc->ramdisk,
                       &x->dc->cmdline };

    for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++) {
        size_t n = strlen(opts[i]);
        if (strncmp(arg, opts[i], n) || (arg[n] && arg[n] != '='))
            continue;
        if (!arg[n] && !next)
            return setting_error(x, "bootloader_args", "%s needs a value", opts[i]);
        *used_next = !arg[n];
        return replace_str(slots[i], arg[n] ? arg + n + 1 : next);
    }
    if (strcmp(arg, "-q") && strcmp(arg, "--quiet") && strcmp(arg, "-n") &&
        strcmp(arg, "--not-really"))
        setting_warn(x, cfg_find(x->c, "bootloader_args"), "%s is ignored by pvkit's pygrub", arg);
    return 0;
}

/* bootloader_args as a list of words; a string is split on blanks (xl's deprecated form). */
static int read_bootloader_args(struct ctx *x)
{
    struct cfg_value **items;
    size_t nr;
    const char *str;
    char *copy = NULL, *words[64];
    int rc = cfg_get_list(x->c, "bootloader_args", &items, &nr, x->err);

    if (rc == -ENOENT)
        return 0;
    if (rc && cfg_get_string(x->c, "bootloader_args", &str, x->err) == 0) {
        setting_warn(x, cfg_find(x->c, "bootloader_args"),
                     "a string is deprecated, use a list of arguments");
        if (!(copy = strdup(str)))
            return -ENOMEM;
        nr = 0;
        for (char *w = strtok(copy, " \t\n"); w && nr < 64; w = strtok(NULL, " \t\n"))
            words[nr++] = w;
        rc = 0;
    } else if (!rc) {
        if (nr > 64)
            return setting_error(x, "bootloader_args", "%zu arguments, at most 64", nr);
        for (size_t i = 0; i < nr; i++)
            words[i] = items[i]->str;
    }
    for (size_t i = 0; !rc && i < nr; i++) {
        bool used_next = false;
        rc = bootloader_option(x, words[i], i + 1 < nr ? words[i + 1] : NULL, &used_next);
        i += used_next;
    }
    free(copy);
    return rc;
}

/* bootloader (pygrub only) and its arguments; needs the disks read. */
static int read_bootloader(struct ctx *x)
{
    struct domcfg *dc = x->dc;
    int rc = get_str(x, "bootloader", NULL, &dc->bootloader);
    const char *base;

    if (rc)
        return rc;
    if (!dc->bootloader) {
        if (cfg_find(x->c, "bootloader_args"))
            setting_warn(x, cfg_find(x->c, "bootloader_args"), "ignored without bootloader");
        return 0;
    }
    base = strrchr(dc->bootloader, '/') ? strrchr(dc->bootloader, '/') + 1 : dc->bootloader;
    if (strcmp(base, "pygrub"))
        return setting_error(x, "bootloader", "\"%s\": pvkit has only its built-in pygrub "
                             "(bootloader = \"pygrub\")", dc->bootloader);
    if (dc->nr_disks == 0)
        return setting_error(x, "bootloader", "pygrub needs a disk to read (disk = [ ... ])");
    return read_bootloader_args(x);
}

static void report_unknown_keys(struct ctx *x)
{
    for (size_t i = 0; i < x->c->nr_settings; i++) {
        struct cfg_setting *s = &x->c->settings[i];
        bool known = false;
        for (size_t k = 0; k < sizeof(known_keys) / sizeof(*known_keys); k++)
            known = known || !strcmp(s->key, known_keys[k]);
        if (!known)
            setting_warn(x, s, "unknown key, ignored");
    }
}

static int read_all(struct ctx *x)
{
    struct domcfg *dc = x->dc;
    int rc;

    if ((rc = get_str(x, "name", NULL, &dc->name)) || (rc = check_name(x)) ||
        (rc = check_type(x)) || (rc = read_sizes(x)) ||
        (rc = get_str(x, "kernel", NULL, &dc->kernel)))
        return rc;
    if ((rc = get_str(x, "ramdisk", NULL, &dc->ramdisk)) || (rc = read_cmdline(x)) ||
        (rc = get_action(x, "on_poweroff", ACTION_DESTROY, &dc->on_poweroff)) ||
        (rc = get_action(x, "on_reboot", ACTION_RESTART, &dc->on_reboot)) ||
        (rc = get_action(x, "on_crash", ACTION_DESTROY, &dc->on_crash)) ||
        (rc = read_disks(x)) || (rc = read_vifs(x)) || (rc = read_bootloader(x)))
        return rc;
    if (!dc->bootloader && (!dc->kernel || !*dc->kernel))
        return setting_error(x, "kernel", "a kernel must be given");
    report_unknown_keys(x);
    return 0;
}

/* Contract: rc, after putting "out of memory" in err when rc is -ENOMEM
 * (the one failure the readers leave unsaid). */
static int oom_said(int rc, char err[CFG_ERR_MAX])
{
    if (rc == -ENOMEM)
        snprintf(err, CFG_ERR_MAX, "out of memory");
    return rc;
}

int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, char err[CFG_ERR_MAX])
{
    struct ctx x = { .err = err };
    char *copy = strdup(spec);

    *d = (struct domcfg_disk){ 0 };
    int rc = oom_said(copy ? parse_disk(&x, 1, copy, d) : -ENOMEM, err);
    free(copy);
    if (rc)
        domcfg_disk_free(d);
    return rc;
}

int domcfg_parse_vif(const char *spec, struct domcfg_vif *v, domcfg_warn_fn *warn, void *arg,
                     char err[CFG_ERR_MAX])
{
    struct ctx x = { .warn = warn, .arg = arg, .err = err };
    char *copy = strdup(spec);

    *v = (struct domcfg_vif){ 0 };
    int rc = oom_said(copy ? parse_vif(&x, 1, copy, v) : -ENOMEM, err);
    free(copy);
    if (rc)
        domcfg_vif_free(v);
    return rc;
}

void domcfg_disk_free(struct domcfg_disk *d)
{
    free(d->target);
    free(d->vdev);
    *d = (struct domcfg_disk){ 0 };
}

void domcfg_vif_free(struct domcfg_vif *v)
{
    free(v->bridge);
    free(v->ip);
    free(v->vifname);
    *v = (struct domcfg_vif){ 0 };
}

int domcfg_from_cfg(struct cfg *c, struct domcfg *dc, domcfg_warn_fn *warn, void *arg,
                    char err[CFG_ERR_MAX])
{
    struct ctx x = { .c = c, .dc = dc, .warn = warn, .arg = arg, .err = err };
    int rc;

    /* Ends as domcfg_parse_vif does (nothing kept on failure), on another type. */
    err[0] = '\0';
    *dc = (struct domcfg){ 0 };
    rc = oom_said(read_all(&x), err);
    if (rc)
        domcfg_free(dc);
    return rc;
}

void domcfg_free(struct domcfg *dc)
{
    free(dc->name);
    free(dc->kernel);
    free(dc->ramdisk);
    free(dc->cmdline);
    for (size_t i = 0; i < dc->nr_disks; i++)
        domcfg_disk_free(&dc->disks[i]);
    for (size_t i = 0; i < dc->nr_vifs; i++)
        domcfg_vif_free(&dc->vifs[i]);
    free(dc->bootloader);
    free(dc->bootloader_entry);
    *dc = (struct domcfg){ 0 };
}

const char *domcfg_action_name(enum domcfg_action a)
{
    switch (a) {
    case ACTION_DESTROY: return "destroy";
    case ACTION_RESTART: return "restart";
    case ACTION_PRESERVE: return "preserve";
    }
    return "?";
}
