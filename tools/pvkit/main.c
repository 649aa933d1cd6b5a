/*
 * pvkit: the toolstack command of pvkit's dom0, with xl's verbs and
 * output formats (issue 14). `pvkit help` lists the verbs; args.c has
 * their options, cmd.h says which file implements each.
 *
 * Exit status: 0 done; 1 refused or failed, after one line on stderr
 * ("pvkit: ...").
 */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "util.h"

struct verb_impl {
    const char *name;
    int (*fn)(struct ctx *c, const struct args *a);
    int needs;   /* NEED_HV, NEED_XS */
};

static const struct verb_impl impls[] = {
    {"create", cmd_create, 0},   /* opens its own connections after the checks that need none */
    {"console", cmd_console, NEED_HV | NEED_XS},
    {"list", cmd_list, NEED_HV | NEED_XS},
    {"destroy", cmd_destroy, NEED_HV | NEED_XS},
    {"shutdown", cmd_shutdown, NEED_HV | NEED_XS},
    {"reboot", cmd_reboot, NEED_HV | NEED_XS},
    {"pause", cmd_pause, NEED_HV | NEED_XS},
    {"unpause", cmd_unpause, NEED_HV | NEED_XS},
    {"info", cmd_info, NEED_HV},
    {"top", cmd_top, NEED_HV | NEED_XS},
    {"vcpu-list", cmd_vcpu_list, NEED_HV | NEED_XS},
    {"mem-set", cmd_mem_set, NEED_HV | NEED_XS},
    {"dmesg", cmd_dmesg, NEED_HV},
    {"uptime", cmd_uptime, NEED_HV | NEED_XS},
    {"stats", cmd_stats, NEED_HV | NEED_XS},
    /* the device verbs check their arguments first, then open their own (cmd_dev.c) */
    {"block-attach", cmd_block_attach, 0},
    {"block-detach", cmd_block_detach, 0},
    {"block-list", cmd_block_list, 0},
    {"network-attach", cmd_network_attach, 0},
    {"network-detach", cmd_network_detach, 0},
    {"network-list", cmd_network_list, 0},
};

static void usage_all(FILE *f)
{
    fprintf(f, "usage: " PROG " VERB [ARGS]   (a DOMAIN is a name or an id)\n\n");
    for (const struct verb_spec *v = verb_specs; v->name; v++)
        fprintf(f, "  %-14s %s\n", v->name, v->summary);
}

static int help(const struct args *a)
{
    if (a->nr_pos == 0) {
        usage_all(stdout);
        return 0;
    }
    const struct verb_spec *v = verb_find(a->pos[0]);
    if (!v)
        return err_msg("help: %s: no such verb (" PROG " help lists them)", a->pos[0]);
    printf("usage: " PROG " %s %s\n  %s\n", v->name, v->usage, v->summary);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    char err[ARGS_ERR_MAX];

    if (argc < 2)
        return err_msg("missing verb (usage: " PROG " VERB [ARGS]; " PROG " help lists the verbs)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage_all(stdout);
        return 0;
    }
    const struct verb_spec *spec = verb_find(argv[1]);
    if (!spec)
        return err_msg("%s: no such verb (" PROG " help lists them)", argv[1]);
    if (args_parse(spec, argc - 2, argv + 2, &a, err))
        return err_msg("%s", err);
    if (a.help) {
        printf("usage: " PROG " %s %s\n  %s\n", spec->name, spec->usage, spec->summary);
        return 0;
    }
    if (strcmp(spec->name, "help") == 0)
        return help(&a);
    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++) {
        if (strcmp(impls[i].name, spec->name) != 0)
            continue;
        struct ctx c = {0};
        if (impls[i].needs && ctx_open(&c, impls[i].needs))
            return 1;
        int status = impls[i].fn(&c, &a);
        ctx_close(&c);
        fflush(stdout);
        if (ferror(stdout))
            return err_msg("write error on standard output");
        return status;
    }
    return err_msg("%s: not implemented", spec->name);
}
