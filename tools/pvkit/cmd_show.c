/*
 * cmd_show: the verbs that only read (cmd.h): list, vcpu-list, info,
 * uptime, dmesg, stats. Formats are format.c's (xl's where xl has one);
 * info adds pvkit's backend daemons' states (blkback, netback) after xl's
 * fields.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>

#include "cmd.h"
#include "devices.h"
#include "format.h"
#include "public/pvkit.h"
#include "store.h"
#include "util.h"

/*
 * The domains A's positional arguments name (all of them if none) into
 * OUT, in the order given. 0 or 1 after one line.
 */
static int select_domains(struct ctx *c, const struct args *a, struct dominfo_list *out)
{
    struct dominfo_list all = {0};
    char err[128];

    if (ctx_list(c, &all))
        return 1;
    if (a->nr_pos == 0) {
        *out = all;
        return 0;
    }
    for (int i = 0; i < a->nr_pos; i++) {
        size_t idx;
        if (dominfo_resolve(&all, a->pos[i], &idx, err)) {
            dominfo_list_free(&all);
            dominfo_list_free(out);
            return err_msg("%s", err);
        }
        dominfo_list_add(out, &all.doms[idx]);
    }
    dominfo_list_free(&all);
    return 0;
}

/* JSON members for `list -l`: pvkit's record of the domain's configuration. */
static char *config_json(struct ctx *c, uint32_t domid)
{
    static const char *const keys[] = {"config", "kernel", "ramdisk", "cmdline", "on_poweroff",
                                       "on_reboot", "on_crash"};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    bool first = true;
    if (!f)
        return NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *v = store_record(c->xs, domid, keys[i]);
        if (!v)
            continue;
        fprintf(f, "%s        \"%s\": \"", first ? "" : ",\n", keys[i]);
        for (const char *p = v; *p; p++) {
            if (*p == '"' || *p == '\\')
                fprintf(f, "\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                fprintf(f, "\\u%04x", (unsigned char)*p);
            else
                fputc(*p, f);
        }
        fputc('"', f);
        first = false;
        free(v);
    }
    fclose(f);
    return out;
}

int cmd_list(struct ctx *c, const struct args *a)
{
    struct dominfo_list l = {0};

    if (select_domains(c, a, &l))
        return 1;
    if (args_flag(a, 'l')) {
        char **extra = xcalloc(l.nr, sizeof(char *));
        for (size_t i = 0; i < l.nr; i++)
            extra[i] = config_json(c, l.doms[i].domid);
        format_list_json(stdout, &l, extra);
        for (size_t i = 0; i < l.nr; i++)
            free(extra[i]);
        free(extra);
    } else {
        format_list_header(stdout);
        for (size_t i = 0; i < l.nr; i++)
            format_list_line(stdout, &l.doms[i]);
    }
    dominfo_list_free(&l);
    return 0;
}

int cmd_vcpu_list(struct ctx *c, const struct args *a)
{
    struct dominfo_list l = {0};
    int status = 0;

    if (select_domains(c, a, &l))
        return 1;
    struct vcpuinfo probe;
    int rc = l.nr ? hv_vcpu_info(c->hv, l.doms[0].domid, 0, &probe) : 0;
    if (rc && rc != -ESRCH) { /* say it once, before any output */
        dominfo_list_free(&l);
        return err_msg("vcpu-list: %s", hv_strerror(rc));
    }
    format_vcpu_header(stdout);
    for (size_t i = 0; i < l.nr && !status; i++)
        for (uint32_t v = 0; v <= l.doms[i].max_vcpu_id; v++) {
            struct vcpuinfo vi;
            int rc = hv_vcpu_info(c->hv, l.doms[i].domid, v, &vi);
            if (rc == -ESRCH)
                break; /* gone meanwhile */
            if (rc) {
                status = err_msg("vcpu-list: domain %u vCPU %u: %s", l.doms[i].domid, v,
                                 hv_strerror(rc));
                break;
            }
            format_vcpu_line(stdout, &l.doms[i], &vi);
        }
    dominfo_list_free(&l);
    return status;
}

/*
 * pvkit's own lines after xl info's: each backend daemon's state
 * (devices.h), "running (pid N)", "not running (pid N exited)" or "not
 * running (never started)".
 */
static void print_backends(FILE *f)
{
    for (const char *kind = "vbd\0vif\0"; *kind; kind += strlen(kind) + 1) {
        const char *name = devices_backend_name(kind);
        pid_t pid = 0;
        int rc = devices_backend_pid(kind, &pid);
        char key[32];
        snprintf(key, sizeof(key), "%s", name + strlen("pvkit-"));
        if (rc == 0)
            fprintf(f, "%-23s: running (pid %d)\n", key, (int)pid);
        else if (rc == -ESRCH)
            fprintf(f, "%-23s: not running (pid %d exited)\n", key, (int)pid);
        else
            fprintf(f, "%-23s: not running (never started)\n", key);
    }
}

int cmd_info(struct ctx *c, const struct args *a)
{
    struct hostinfo hi = {0};
    struct utsname u;
    int rc;

    (void)a;
    if (uname(&u) == 0) {
        snprintf(hi.host, sizeof(hi.host), "%s", u.nodename);
        snprintf(hi.release, sizeof(hi.release), "%s", u.release);
        snprintf(hi.version, sizeof(hi.version), "%s", u.version);
        snprintf(hi.machine, sizeof(hi.machine), "%s", u.machine);
    }
    if ((rc = hv_physinfo(c->hv, &hi)))
        return err_msg("info: physinfo: %s", hv_strerror(rc));
    if ((rc = hv_version(c->hv, &hi)))
        return err_msg("info: xen_version: %s", hv_strerror(rc));
    format_info(stdout, &hi);
    print_backends(stdout);
    return 0;
}

/* Seconds dom0 has been up (/proc/uptime). */
static double dom0_uptime(void)
{
    double up = 0;
    FILE *f = fopen("/proc/uptime", "r");
    if (f) {
        if (fscanf(f, "%lf", &up) != 1)
            up = 0;
        fclose(f);
    }
    return up;
}

int cmd_uptime(struct ctx *c, const struct args *a)
{
    struct dominfo_list l = {0};
    struct timeval now;

    if (select_domains(c, a, &l))
        return 1;
    gettimeofday(&now, NULL);
    if (!args_flag(a, 's'))
        format_uptime_header(stdout);
    for (size_t i = 0; i < l.nr; i++) {
        double start, up;
        if (l.doms[i].domid == 0)
            up = dom0_uptime();
        else if (store_start_time(c->xs, l.doms[i].domid, &start) == 0)
            up = (double)now.tv_sec + (double)now.tv_usec / 1e6 - start;
        else
            up = 0;
        format_uptime_line(stdout, l.doms[i].name, l.doms[i].domid, up > 0 ? (uint64_t)up : 0);
    }
    dominfo_list_free(&l);
    return 0;
}

int cmd_dmesg(struct ctx *c, const struct args *a)
{
    char *text;
    size_t len;
    int rc = hv_read_console(c->hv, args_flag(a, 'c'), &text, &len);
    if (rc)
        return err_msg("dmesg: %s", hv_strerror(rc));
    fwrite(text, 1, len, stdout);
    free(text);
    return 0;
}

/* Opens as cmd_vcpu_list does (select the domains, then one query each): the queries differ. */
int cmd_stats(struct ctx *c, const struct args *a)
{
    struct dominfo_list l = {0};
    int status = 0;

    if (select_domains(c, a, &l))
        return 1;
    for (size_t i = 0; i < l.nr; i++) {
        struct pvkit_domain_stats s;
        int rc = hv_get_stats(c->hv, l.doms[i].domid, &s);
        if (rc == -ESRCH && a->nr_pos == 0)
            continue;
        if (rc) {
            status = err_msg("stats: domain %u: %s", l.doms[i].domid, hv_strerror(rc));
            break;
        }
        if (i)
            putchar('\n');
        format_stats(stdout, &l.doms[i], &s);
    }
    dominfo_list_free(&l);
    return status;
}
