/*
 * cli.h - command-line checks shared by the backend daemons.  Every refusal
 * is one line on stderr, "<prog>: <what was refused and why>", followed by
 * exit status 2 (a usage error); nothing is ever clamped or ignored
 * silently.
 */
#ifndef PVK_CLI_H
#define PVK_CLI_H

struct option;

/* A daemon's command line beyond --transport and --help. */
struct pvk_cli {
    const char *prog;               /* "pvkit-blkback" */
    const struct option *options;   /* NULL-terminated; may be empty */
    void (*usage)(void);            /* prints the usage on stdout */
    /* Takes one option of `options` (getopt's return value and optarg)
     * for the daemon's state ctx. */
    void (*option)(void *ctx, int c, const char *arg);
};

/*
 * Parses a daemon's command line: --transport, --help and cli's options
 * (each handed to cli->option with ctx); --help prints the usage and
 * exits 0; an unknown option, a missing value, a stray argument, an
 * unknown transport or the hosted transport's missing inputs
 * (pvk_cli_hosted_env) is one line on stderr and exit 2.  Returns the
 * transport kind ("xen" unless given).
 */
const char *pvk_cli_parse(const struct pvk_cli *cli, void *ctx, int argc, char **argv);

/*
 * Returns the number in `arg` (decimal, or 0x hex) given to option `opt`
 * if it lies in [lo, hi]; otherwise prints "<prog>: <opt> <arg>: not a
 * number" or "...: out of range (allowed lo..hi)" and exits 2.
 */
unsigned long pvk_cli_num(const char *prog, const char *opt, const char *arg,
                          unsigned long lo, unsigned long hi);
/* Exits 2 with one line unless `kind` is "xen" or "hosted". */
void pvk_cli_transport(const char *prog, const char *kind);
/*
 * Exits 2 with one line naming `what` (an option, or an environment
 * variable) and `path` unless `path` is an existing directory.
 */
void pvk_cli_dir(const char *prog, const char *what, const char *path);
/*
 * Checks the hosted transport's inputs before it is opened: the directory
 * PVKIT_HOSTED_DIR names (or its default) and the store socket
 * (XENSTORED_PATH, or libxenstore's default) must exist and be a socket.
 * No-op for other transports.  Exits 2 with one line naming the path.
 */
void pvk_cli_hosted_env(const char *prog, const char *kind);
/*
 * For getopt_long run with opterr = 0 and an optstring starting with ':':
 * reports the option it refused (c is '?' for an unknown option, ':' for a
 * missing value) in one line and exits 2.
 */
void pvk_cli_bad_option(const char *prog, int c, char **argv);
/* Exits 2 naming argv[optind] if any non-option argument is left. */
void pvk_cli_no_args(const char *prog, int argc, char **argv, int optind);

#endif
