/*
 * args: pvkit's verbs and their options (args.h).
 */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

const struct verb_spec verb_specs[] = {
    {"create", "cnqf", "", 1, -1, "[-c] [-n] [-q] CONFIG [KEY=VALUE ...]",
     "create a domain from an xl.cfg file (-c: attach its console, -n: check only)"},
    {"console", "", "", 1, 1, "DOMAIN", "attach to a domain's console (Ctrl-] detaches)"},
    {"list", "l", "", 0, -1, "[-l] [DOMAIN ...]", "list domains (-l: as JSON)"},
    {"destroy", "", "", 1, 1, "DOMAIN", "destroy a domain at once"},
    {"shutdown", "waF", "", 0, 1, "[-w] [-a] [-F] [DOMAIN]",
     "ask a domain to power off (-w: wait until it is gone, -a: all domains)"},
    {"reboot", "waF", "", 0, 1, "[-w] [-a] [-F] [DOMAIN]",
     "ask a domain to reboot (-w: wait until it has, -a: all domains)"},
    {"pause", "", "", 1, 1, "DOMAIN", "pause a domain"},
    {"unpause", "", "", 1, 1, "DOMAIN", "unpause a domain"},
    {"info", "", "", 0, 0, "", "show what the host and hypervisor have"},
    {"top", "b", "id", 0, 0, "[-b] [-i ITERATIONS] [-d SECONDS]",
     "domains' CPU and memory, refreshed (-b: batch lines)"},
    {"vcpu-list", "", "", 0, -1, "[DOMAIN ...]", "list domains' vCPUs"},
    {"mem-set", "", "", 2, 2, "DOMAIN MEMORY", "set a domain's memory target (unit b/k/m/g, default MiB)"},
    {"dmesg", "c", "", 0, 0, "[-c]", "print the hypervisor's log (-c: and clear it)"},
    {"uptime", "s", "", 0, -1, "[-s] [DOMAIN ...]", "how long domains have run (-s: no header)"},
    {"stats", "", "", 0, 1, "[DOMAIN]", "pvkit's statistics: hypercalls, batches, validations"},
    {"block-attach", "", "", 2, -1, "DOMAIN DISKSPEC...",
     "attach a disk to a running domain (xl-disk-configuration(5))"},
    {"block-detach", "f", "", 2, 2, "[-f] DOMAIN DEVID|VDEV",
     "detach a disk, waiting up to 10 s for its backend (-f: at once)"},
    {"block-list", "", "", 1, -1, "DOMAIN...", "list domains' disks"},
    {"network-attach", "", "", 1, -1, "DOMAIN [KEY=VALUE ...]",
     "attach a network interface (xl-network-configuration(5))"},
    {"network-detach", "", "", 2, 2, "DOMAIN DEVID|MAC", "detach a network interface"},
    {"network-list", "", "", 1, -1, "DOMAIN...", "list domains' network interfaces"},
    {"help", "", "", 0, 1, "[VERB]", "list the verbs, or one verb's usage"},
    {NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct verb_spec *verb_find(const char *name)
{
    for (const struct verb_spec *v = verb_specs; v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

static int letter_index(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'A';
    return -1;
}

bool args_flag(const struct args *a, char letter)
{
    int i = letter_index(letter);
    return i >= 0 && (a->flags >> i & 1);
}

const char *args_value(const struct args *a, char letter)
{
    int i = letter_index(letter);
    return i >= 0 ? a->values[i] : NULL;
}

int args_parse(const struct verb_spec *verb, int argc, char **argv, struct args *a,
               char err[ARGS_ERR_MAX])
{
    bool options = true;

    memset(a, 0, sizeof(*a));
    a->verb = verb;
    for (int i = 0; i < argc; i++) {
        char *w = argv[i];
        if (options && strcmp(w, "--") == 0) {
            options = false;
            continue;
        }
        if (options && (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)) {
            a->help = true;
            return 0;
        }
        if (options && w[0] == '-' && w[1] == '-') {
            snprintf(err, ARGS_ERR_MAX, "%s: unknown option %.40s", verb->name, w);
            return -EINVAL;
        }
        if (options && w[0] == '-' && w[1]) {
            for (char *p = w + 1; *p; p++) {
                int li = letter_index(*p);
                if (li >= 0 && strchr(verb->flags, *p)) {
                    a->flags |= 1ul << li;
                } else if (li >= 0 && strchr(verb->valued, *p)) {
                    if (p[1]) {
                        a->values[li] = p + 1;
                    } else if (i + 1 < argc) {
                        a->values[li] = argv[++i];
                    } else {
                        snprintf(err, ARGS_ERR_MAX, "%s: -%c needs a value", verb->name, *p);
                        return -EINVAL;
                    }
                    break;
                } else {
                    snprintf(err, ARGS_ERR_MAX, "%s: unknown option -%c (usage: " PROG " %s %s)",
                             verb->name, *p, verb->name, verb->usage);
                    return -EINVAL;
                }
            }
            continue;
        }
        if ((verb->max_pos >= 0 && a->nr_pos >= verb->max_pos) || a->nr_pos >= ARGS_MAX_POS) {
            snprintf(err, ARGS_ERR_MAX, "%s: too many arguments (usage: " PROG " %s %s)",
                     verb->name, verb->name, verb->usage);
            return -EINVAL;
        }
        a->pos[a->nr_pos++] = w;
    }
    if (a->nr_pos < verb->min_pos) {
        snprintf(err, ARGS_ERR_MAX, "%s: missing argument (usage: " PROG " %s %s)", verb->name,
                 verb->name, verb->usage);
        return -EINVAL;
    }
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *args_config_path(const char *arg, const char *dir)
{
    if (strchr(arg, '/') || exists(arg))
        return xstrdup(arg);
    char *p = xasprintf("%s/%s", dir, arg);
    if (exists(p))
        return p;
    free(p);
    p = xasprintf("%s/%s.cfg", dir, arg);
    if (exists(p))
        return p;
    free(p);
    return xstrdup(arg);
}

int args_check_override(const char *arg, char err[ARGS_ERR_MAX])
{
    const char *p = arg;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
        goto bad;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
           *p == '_' || *p == '.')
        p++;
    while (*p == ' ')
        p++;
    if (*p == '+')
        p++;
    if (*p == '=')
        return 0;
bad:
    snprintf(err, ARGS_ERR_MAX, "%.200s: not KEY=VALUE", arg);
    return -EINVAL;
}
