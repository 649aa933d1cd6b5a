/*
 * cmd_life: the verbs that change a domain's life (cmd.h): destroy,
 * shutdown, reboot, pause, unpause, mem-set. As in xl, shutdown and
 * reboot ask the guest through xenstore (control/shutdown = "poweroff" or
 * "reboot"); the guest's kernel acts on it and the domain's monitor
 * (monitor.h) carries out on_poweroff/on_reboot. -F falls back to the
 * hypervisor's SCHEDOP_remote_shutdown when the guest has not said it
 * handles the request (control/feature-poweroff or -reboot unset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "cmd.h"
#include "monitor.h"
#include "store.h"
#include "util.h"

int cmd_destroy(struct ctx *c, const struct args *a)
{
    struct dominfo d;

    if (ctx_resolve_domu(c, a->pos[0], &d, "destroy: domain 0 cannot be destroyed"))
        return 1;
    /* Stop its monitor first; if that was restarting it, destroy what it built. */
    monitor_stop(c->xs, d.domid);
    if (hv_domain_info(c->hv, d.domid, &d) == -ESRCH && ctx_resolve(c, a->pos[0], &d))
        return 1;
    int rc = domain_destroy_all(c, d.domid);
    if (rc == -EBUSY)
        return err_msg("destroy: domain %u is dying but another domain still maps its memory; "
                       "run destroy again once that is released", d.domid);
    if (rc)
        return err_msg("destroy: domain %u: %s", d.domid, hv_strerror(rc));
    return 0;
}

/* True once domain D (asked to shut down for REASON) has done so as far as -w waits. */
static bool gone(struct ctx *c, uint32_t domid)
{
    struct dominfo d;
    int rc = hv_domain_info(c->hv, domid, &d);
    if (rc == -ESRCH)
        return true;
    if (rc == 0 && d.shutdown) {
        /* preserved by its configuration: it will not go away by itself */
        char *act = store_record(c->xs, domid,
                                 d.shutdown_reason == REASON_REBOOT ? "on_reboot" : "on_poweroff");
        bool preserved = act && strcmp(act, "preserve") == 0;
        free(act);
        return preserved;
    }
    return false;
}

/* Asks DOMID to do REQUEST ("poweroff", "reboot"). 0 or 1 after one line. */
static int request(struct ctx *c, const char *verb, uint32_t domid, const char *req, bool force)
{
    char path[96];
    unsigned len;
    snprintf(path, sizeof(path), "/local/domain/%u/control/feature-%s", domid, req);
    char *feature = xs_read(c->xs, XBT_NULL, path, &len);
    bool handles = feature && strcmp(feature, "1") == 0;
    free(feature);
    if (!handles && force) {
        int rc = hv_remote_shutdown(c->hv, domid,
                                    strcmp(req, "reboot") == 0 ? REASON_REBOOT : REASON_POWEROFF);
        if (rc)
            return err_msg("%s: domain %u: %s", verb, domid, hv_strerror(rc));
        return 0;
    }
    int rc = store_request_shutdown(c->xs, domid, req);
    if (rc)
        return err_msg("%s: domain %u: cannot write control/shutdown: %s", verb, domid,
                       strerror(-rc));
    return 0;
}

static int shutdown_or_reboot(struct ctx *c, const struct args *a, const char *req)
{
    const char *verb = a->verb->name;
    struct dominfo_list l = {0};
    uint32_t ids[256];
    size_t n = 0;
    int status = 0;

    if (args_flag(a, 'a') == (a->nr_pos == 1))
        return err_msg("%s: name one domain, or -a for all (usage: " PROG " %s %s)", verb, verb,
                       a->verb->usage);
    if (args_flag(a, 'a')) {
        if (ctx_list(c, &l))
            return 1;
        for (size_t i = 0; i < l.nr && n < 256; i++)
            if (l.doms[i].domid != 0 && !l.doms[i].dying)
                ids[n++] = l.doms[i].domid;
        dominfo_list_free(&l);
    } else {
        struct dominfo d;
        if (ctx_resolve_domu(c, a->pos[0], &d,
                             "%s: domain 0 is this domain; use poweroff or reboot in it", verb))
            return 1;
        ids[n++] = d.domid;
    }
    for (size_t i = 0; i < n; i++)
        status |= request(c, verb, ids[i], req, args_flag(a, 'F'));
    if (!args_flag(a, 'w'))
        return status;
    for (size_t i = 0; i < n; i++) {
        if (!args_flag(a, 'a') || n > 1)
            fprintf(stderr, "Waiting for domain %u to %s\n", ids[i],
                    strcmp(req, "reboot") == 0 ? "reboot" : "shut down");
        while (!gone(c, ids[i]))
            nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        fprintf(stderr, "Domain %u has %s\n", ids[i],
                strcmp(req, "reboot") == 0 ? "rebooted" : "shut down");
    }
    return status;
}

int cmd_shutdown(struct ctx *c, const struct args *a)
{
    return shutdown_or_reboot(c, a, "poweroff");
}

int cmd_reboot(struct ctx *c, const struct args *a)
{
    return shutdown_or_reboot(c, a, "reboot");
}

static int pause_or_unpause(struct ctx *c, const struct args *a, bool pause)
{
    struct dominfo d;
    if (ctx_resolve_domu(c, a->pos[0], &d, "%s: domain 0 is this domain", a->verb->name))
        return 1;
    if (!pause && !d.paused)
        return err_msg("unpause: domain %u is not paused", d.domid);
    int rc = pause ? hv_pause(c->hv, d.domid) : hv_unpause(c->hv, d.domid);
    if (rc)
        return err_msg("%s: domain %u: %s", a->verb->name, d.domid, hv_strerror(rc));
    return 0;
}

int cmd_pause(struct ctx *c, const struct args *a)
{
    return pause_or_unpause(c, a, true);
}

int cmd_unpause(struct ctx *c, const struct args *a)
{
    return pause_or_unpause(c, a, false);
}

int cmd_mem_set(struct ctx *c, const struct args *a)
{
    struct dominfo d;
    uint64_t kb;

    int rc = parse_mem_kb(a->pos[1], false, &kb);
    if (rc)
        return err_msg("mem-set: %s: not a memory size (a number with an optional unit "
                       "b, k, m, g or t; MiB without)", a->pos[1]);
    if (ctx_resolve(c, a->pos[0], &d))
        return 1;
    if (d.max_kb && kb > d.max_kb)
        return err_msg("mem-set: domain %u: %llu KiB is above its maximum of %llu KiB", d.domid,
                       (unsigned long long)kb, (unsigned long long)d.max_kb);
    if ((rc = store_set_target(c->xs, d.domid, kb)))
        return err_msg("mem-set: domain %u: cannot write memory/target: %s", d.domid,
                       strerror(-rc));
    return 0;
}
