/*
 * cmd_dev: hot-plug of a running domain's devices, xl's verbs (cmd.h):
 *   block-attach DOMAIN DISKSPEC...     (the words joined with commas, as xl)
 *   block-detach [-f] DOMAIN DEVID|VDEV
 *   block-list DOMAIN...
 *   network-attach DOMAIN [KEY=VALUE...]
 *   network-detach DOMAIN DEVID|MAC
 *   network-list DOMAIN...
 *
 * A spec is parsed by domcfg's parser, the one the config file's disk and
 * vif items go through; the nodes are devices.c's. Everything that needs
 * no hypervisor (the spec, the image file, the detach argument) is checked
 * before the connections are opened, so the verbs open their own (they
 * are registered with no needs). An attach is refused when the backend
 * daemon that would serve it is not running in dom0 (devices.h).
 * A detach waits up to DEVICES_DETACH_TIMEOUT_MS for the backend to close,
 * then removes the nodes anyway (libxl's forced fallback); -f does not
 * wait. The list verbs print xl's columns; a domain that cannot be found
 * gets its one line and the status is 1, the others are listed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "devices.h"
#include "domcfg.h"
#include "util.h"

/* A's positional arguments from FIRST on, joined with commas (a fresh string). */
static char *join_from(const struct args *a, int first)
{
    char *s = xstrdup("");
    for (int i = first; i < a->nr_pos; i++) {
        char *n = xasprintf("%s%s%s", s, i > first ? "," : "", a->pos[i]);
        free(s);
        s = n;
    }
    return s;
}

/*
 * Opens both connections and finds the domU ARG names into *D.
 * 0, or 1 after one line ("VERB: domain 7: no such domain").
 */
static int open_domu(struct ctx *c, const char *verb, const char *arg, struct dominfo *d)
{
    struct dominfo_list l = {0};
    char err[128];
    size_t i;

    if (ctx_open(c, NEED_HV | NEED_XS) || ctx_list(c, &l))
        return 1;
    int rc = dominfo_resolve(&l, arg, &i, err);
    if (rc == 0)
        *d = l.doms[i];
    dominfo_list_free(&l);
    if (rc)
        return err_msg("%s: domain %s", verb, err);
    if (d->domid == 0)
        return err_msg("%s: domain 0: pvkit's backends serve other domains only", verb);
    return 0;
}

/* 0 if the backend daemon of KIND runs, else 1 after
 * "VERB: NAME: WHAT: DAEMON is not running in dom0". */
static int check_backend(const char *verb, const char *name, const char *what, const char *kind)
{
    pid_t pid;
    if (devices_backend_pid(kind, &pid) == 0)
        return 0;
    return err_msg("%s: %s: %s: %s is not running in dom0", verb, name, what,
                   devices_backend_name(kind));
}

/* 0 if the image D names can back a disk, else 1 after "VERB: PATH: WHY". */
static int check_target(const char *verb, const struct domcfg_disk *d)
{
    char why[PATH_MAX + 64];
    return devices_check_target(d, why, sizeof(why)) ? err_msg("%s: %s", verb, why) : 0;
}

int cmd_block_attach(struct ctx *unused, const struct args *a)
{
    struct domcfg_disk d;
    char err[CFG_ERR_MAX];
    struct dominfo dom;
    struct ctx c;
    char what[64];
    int status = 1;

    (void)unused;
    char *spec = join_from(a, 1);
    int rc = domcfg_parse_disk(spec, &d, err);
    free(spec);
    if (rc)
        return err_msg("block-attach: %s", err);
    if (check_target("block-attach", &d))
        goto out;
    if (open_domu(&c, "block-attach", a->pos[0], &dom))
        goto out_ctx;
    snprintf(what, sizeof(what), "disk %s", d.vdev);
    if (check_backend("block-attach", dom.name, what, "vbd"))
        goto out_ctx;
    rc = devices_add_disk(c.xs, dom.domid, &d);
    if (rc == -EEXIST)
        err_msg("block-attach: %s: vdev %s is in use", dom.name, d.vdev);
    else if (rc == -ENOSPC)
        err_msg("block-attach: %s: has %d disks, the most a domain may have", dom.name,
                DOMCFG_MAX_DISKS);
    else if (rc)
        err_msg("block-attach: %s: disk %s: %s", dom.name, d.vdev, strerror(-rc));
    status = rc ? 1 : 0;
out_ctx:
    ctx_close(&c);
out:
    domcfg_disk_free(&d);
    return status;
}

/* The vbd id ARG names (a device number or a vdev), or -EINVAL. */
static long vbd_id(const char *arg)
{
    long id;
    if (parse_long(arg, 1, UINT32_MAX, &id) == 0)
        return id;
    return devices_vdev_number(arg);
}

/*
 * Detaches device KIND ID of D, waiting for the backend unless FORCE or
 * the backend is not running (nobody would close it). ARG names the
 * device in messages. 0, or 1 after one line.
 */
static int detach(struct ctx *c, const char *verb, const struct dominfo *d, const char *kind,
                  unsigned id, const char *arg, bool force)
{
    pid_t pid;
    bool wait = !force && devices_backend_pid(kind, &pid) == 0;
    int rc = devices_remove(c->xs, d->domid, kind, id, wait ? DEVICES_DETACH_TIMEOUT_MS : 0);
    if (rc == -ENOENT)
        return err_msg("%s: %s: %s: no such device", verb, d->name, arg);
    if (rc == -ETIMEDOUT)
        warn_msg("%s: %s: %s: the backend did not close within %u s; removed anyway", verb,
                 d->name, arg, DEVICES_DETACH_TIMEOUT_MS / 1000);
    else if (rc)
        return err_msg("%s: %s: %s: %s", verb, d->name, arg, strerror(-rc));
    return 0;
}

int cmd_block_detach(struct ctx *unused, const struct args *a)
{
    struct dominfo d;
    struct ctx c;

    (void)unused;
    long id = vbd_id(a->pos[1]);
    if (id < 0)
        return err_msg("block-detach: %s: not a device id or vdev (xvdb, 51728)", a->pos[1]);
    int status = open_domu(&c, "block-detach", a->pos[0], &d) ||
                 detach(&c, "block-detach", &d, "vbd", (unsigned)id, a->pos[1], args_flag(a, 'f'));
    ctx_close(&c);
    return status;
}

/*
 * Prints HEADER once the connections are open, then resolves each of A's
 * domains and calls PRINT_LINE for each of its devices of TYPE ("vbd" or
 * "vif"); a domain that cannot be found gets its one line and makes the
 * status 1, one whose devices cannot be listed prints none.
 */
static int list_devices(const struct args *a, const char *verb, const char *header,
                        const char *type,
                        void (*print_line)(const struct dominfo *d, const struct devices_info *dev))
{
    struct ctx c;
    struct dominfo_list l = {0};
    char err[128];
    int status = 0;

    if (ctx_open(&c, NEED_HV | NEED_XS) || ctx_list(&c, &l)) {
        ctx_close(&c);
        return 1;
    }
    fputs(header, stdout);
    for (int i = 0; i < a->nr_pos; i++) {
        size_t idx;
        struct devices_info *devs;
        size_t nr;
        if (dominfo_resolve(&l, a->pos[i], &idx, err)) {
            status = err_msg("%s: domain %s", verb, err);
            continue;
        }
        if (devices_list(c.xs, l.doms[idx].domid, type, &devs, &nr))
            continue;
        for (size_t j = 0; j < nr; j++)
            print_line(&l.doms[idx], &devs[j]);
        free(devs);
    }
    dominfo_list_free(&l);
    ctx_close(&c);
    return status;
}

/* xl block-list's line for D's DEV: Vdev BE handle state evt-ch ring-ref BE-path. */
static void print_vbd(const struct dominfo *d, const struct devices_info *dev)
{
    printf("%-5u %-3d %-6u %-5d %-6ld %-8ld %-30s\n", dev->id, 0, d->domid, dev->fe_state,
           dev->evtch, dev->rref, dev->be_path);
}

int cmd_block_list(struct ctx *unused, const struct args *a)
{
    (void)unused;
    char header[128];
    snprintf(header, sizeof(header), "%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE",
             "handle", "state", "evt-ch", "ring-ref", "BE-path");
    return list_devices(a, "block-list", header, "vbd", print_vbd);
}

static void print_warning(void *arg, const char *msg)
{
    warn_msg("%s: %s", (const char *)arg, msg);
}

/* Opens as cmd_block_attach does (parse the spec, open the domain): other types and writes. */
int cmd_network_attach(struct ctx *unused, const struct args *a)
{
    struct domcfg_vif v;
    char err[CFG_ERR_MAX];
    struct dominfo d;
    struct ctx c;
    char what[32];
    int status = 1;

    (void)unused;
    char *spec = join_from(a, 1);
    int rc = domcfg_parse_vif(spec, &v, print_warning, "network-attach", err);
    free(spec);
    if (rc)
        return err_msg("network-attach: %s", err);
    if (open_domu(&c, "network-attach", a->pos[0], &d))
        goto out;
    unsigned id = devices_free_vif_id(c.xs, d.domid);
    snprintf(what, sizeof(what), "vif %u", id);
    if (check_backend("network-attach", d.name, what, "vif"))
        goto out;
    rc = devices_add_vif(c.xs, d.domid, id, &v);
    if (rc == -ENOSPC)
        err_msg("network-attach: %s: has %d interfaces, the most a domain may have", d.name,
                DOMCFG_MAX_VIFS);
    else if (rc)
        err_msg("network-attach: %s: vif %u: %s", d.name, id, strerror(-rc));
    status = rc ? 1 : 0;
out:
    ctx_close(&c);
    domcfg_vif_free(&v);
    return status;
}

int cmd_network_detach(struct ctx *unused, const struct args *a)
{
    const char *arg = a->pos[1];
    unsigned char mac[6];
    struct dominfo d;
    struct ctx c;
    long id = -1;

    (void)unused;
    bool by_mac = strchr(arg, ':') != NULL;
    if (by_mac ? domcfg_parse_mac(arg, mac) != 0 : parse_long(arg, 0, UINT32_MAX, &id) != 0)
        return err_msg("network-detach: %s: not a device id or MAC address", arg);
    int status = open_domu(&c, "network-detach", a->pos[0], &d);
    unsigned uid = (unsigned)id;
    if (!status && by_mac && devices_vif_by_mac(c.xs, d.domid, arg, &uid))
        status = err_msg("network-detach: %s: %s: no such device", d.name, arg);
    if (!status)
        status = detach(&c, "network-detach", &d, "vif", uid, arg, false);
    ctx_close(&c);
    return status;
}

/* xl network-list's line for DEV: Idx BE Mac handle state evt-ch tx-/rx-ring-ref BE-path. */
static void print_vif(const struct dominfo *d, const struct devices_info *dev)
{
    (void)d;
    printf("%-3u %-2d %-17s%6u %5d %6ld %5ld/%-11ld %-30s\n", dev->id, 0, dev->mac, dev->id,
           dev->fe_state, dev->evtch, dev->rref, dev->rref_rx, dev->be_path);
}

int cmd_network_list(struct ctx *unused, const struct args *a)
{
    (void)unused;
    char header[128];
    snprintf(header, sizeof(header), "%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx",
             "BE", "Mac Addr.", "handle", "state", "evt-ch", "tx-", "rx-ring-ref", "BE-path");
    return list_devices(a, "network-list", header, "vif", print_vif);
}
