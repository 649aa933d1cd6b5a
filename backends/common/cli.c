/*
 * cli.c - the command-line checks of cli.h.
 */
#include "cli.h"
#include "hosted/hosted_layout.h"
#include "transport.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Contract: see cli.h. */
const char *pvk_cli_parse(const struct pvk_cli *cli, void *ctx, int argc, char **argv)
{
    unsigned n = 0;
    const char *kind = "xen";
    int c;

    while (cli->options[n].name)
        n++;
    struct option opts[n + 3];

    opts[0] = (struct option){ "transport", required_argument, NULL, 't' };
    memcpy(&opts[1], cli->options, n * sizeof(opts[0]));
    opts[n + 1] = (struct option){ "help", no_argument, NULL, 'h' };
    opts[n + 2] = (struct option){ NULL, 0, NULL, 0 };
    opterr = 0;   /* pvk_cli_bad_option says it in one line */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': kind = optarg; pvk_cli_transport(cli->prog, kind); break;
        case 'h': cli->usage(); exit(0);
        case '?': case ':':
            pvk_cli_bad_option(cli->prog, c, argv);
            break;
        default:
            cli->option(ctx, c, optarg);
        }
    }
    pvk_cli_no_args(cli->prog, argc, argv, optind);
    pvk_cli_hosted_env(cli->prog, kind);
    return kind;
}

unsigned long pvk_cli_num(const char *prog, const char *opt, const char *arg,
                          unsigned long lo, unsigned long hi)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 0);
    if (!isdigit((unsigned char)arg[0]) || *end != '\0') {
        fprintf(stderr, "%s: %s %s: not a number (allowed %lu..%lu)\n",
                prog, opt, arg, lo, hi);
        exit(2);
    }
    if (errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "%s: %s %s: out of range (allowed %lu..%lu)\n",
                prog, opt, arg, lo, hi);
        exit(2);
    }
    return v;
}

void pvk_cli_transport(const char *prog, const char *kind)
{
    if (strcmp(kind, "xen") != 0 && strcmp(kind, "hosted") != 0) {
        fprintf(stderr, "%s: --transport %s: unknown transport (xen or hosted)\n",
                prog, kind);
        exit(2);
    }
}

void pvk_cli_dir(const char *prog, const char *what, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s %s: not a directory\n", prog, what, path);
        exit(2);
    }
}

void pvk_cli_hosted_env(const char *prog, const char *kind)
{
    const char *sock = pvk_store_socket_path();
    struct stat st;

    if (strcmp(kind, "hosted") != 0)
        return;
    pvk_cli_dir(prog, getenv("PVKIT_HOSTED_DIR") ? "PVKIT_HOSTED_DIR"
                : "PVKIT_HOSTED_DIR (unset, default)", pvk_hosted_dir());
    if (stat(sock, &st) < 0) {
        fprintf(stderr, "%s: store socket %s: %s%s\n", prog, sock, strerror(errno),
                getenv("XENSTORED_PATH") ? "" : " (XENSTORED_PATH unset)");
        exit(2);
    }
    if (!S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "%s: store socket %s: not a socket\n", prog, sock);
        exit(2);
    }
}

void pvk_cli_bad_option(const char *prog, int c, char **argv)
{
    char shortopt[3] = { '-', (char)optopt, '\0' };
    const char *last = argv[optind - 1];
    const char *what = strncmp(last, "--", 2) == 0 ? last : shortopt;

    if (c == ':')
        fprintf(stderr, "%s: option '%s' needs a value (try --help)\n", prog, what);
    else
        fprintf(stderr, "%s: unknown option '%s' (try --help)\n", prog, what);
    exit(2);
}

void pvk_cli_no_args(const char *prog, int argc, char **argv, int optind)
{
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n",
                prog, argv[optind]);
        exit(2);
    }
}
