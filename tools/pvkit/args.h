/*
 * args: pvkit's command line, `pvkit VERB [OPTIONS] ARGS`, parsed the way
 * xl parses its own: each verb has its letters (flags, or options that take
 * a value), positional arguments within a count, options anywhere before
 * `--`, clustered flags (-wa) and attached values (-i3). Every mistake is
 * one line in ERR and status 1 from the caller, never a partial action.
 *
 * Also here: where a configuration file named on `create` is looked for.
 */
#ifndef PVKIT_ARGS_H
#define PVKIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define ARGS_ERR_MAX 256
#define ARGS_MAX_POS 64

struct verb_spec {
    const char *name;
    const char *flags;      /* letters of options without a value */
    const char *valued;     /* letters of options with a value */
    int min_pos, max_pos;   /* positional arguments; max_pos -1: any number */
    const char *usage;      /* "pvkit NAME USAGE" */
    const char *summary;    /* one line for `pvkit help` */
};

struct args {
    const struct verb_spec *verb;
    unsigned long flags;                /* bit (letter - 'A') for each flag given, A-Za-z */
    const char *values[58];             /* a valued option's last value, by letter - 'A' */
    char *pos[ARGS_MAX_POS];
    int nr_pos;
    bool help;                          /* -h or --help: print the usage and stop */
};

/* The verbs, in the order `pvkit help` lists them, ended by a NULL name. */
extern const struct verb_spec verb_specs[];

/* The verb called NAME, or NULL. */
const struct verb_spec *verb_find(const char *name);

/*
 * Parses ARGV[0..ARGC) (the words after the verb) for VERB into A.
 * 0, or -EINVAL with one line in ERR: "VERB: unknown option -x",
 * "VERB: -i needs a value", "VERB: too many arguments" or "VERB: missing
 * argument (usage: pvkit VERB ...)". Pointers in A point into ARGV.
 */
int args_parse(const struct verb_spec *verb, int argc, char **argv, struct args *a,
               char err[ARGS_ERR_MAX]);

/* True if flag LETTER was given. */
bool args_flag(const struct args *a, char letter);

/* The value of option LETTER, or NULL if not given. */
const char *args_value(const struct args *a, char letter);

/*
 * The configuration file that ARG names for `create`: ARG itself if it
 * holds a '/' or exists in the current directory; else DIR/ARG, else
 * DIR/ARG.cfg, if either exists; else ARG (whose open then fails with
 * the system's reason). A fresh string.
 */
char *args_config_path(const char *arg, const char *dir);

/*
 * Checks a `create` override "KEY=VALUE" (KEY an xl.cfg identifier). 0 or
 * -EINVAL with "ARG: not KEY=VALUE" in ERR.
 */
int args_check_override(const char *arg, char err[ARGS_ERR_MAX]);

#endif
