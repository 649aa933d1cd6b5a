/*
 * cfg: the syntax of xl.cfg files (xl.cfg(5), "Syntax"), independent of
 * what any key means; domcfg.c gives the keys their meaning.
 *
 * A file is a sequence of settings `KEY = VALUE` or `KEY += VALUE`, each
 * ended by a newline, a `;` or the end of the text; `#` starts a comment
 * that runs to the end of the line; empty statements are allowed. KEY is
 * [A-Za-z_][A-Za-z0-9_.]*. A VALUE is a string in double or single quotes
 * (backslash escapes \n \t \r \\ \" \' \xHH and octal \NNN), a bare number
 * ([0-9][0-9A-Za-z_.+-]*, kept as text; cfg_get_long converts it), or a
 * list `[ VALUE, VALUE, ... ]` that may span lines, nest, be empty and end
 * in a comma. A key set twice keeps the last value, as in xl, which is how
 * `KEY=VALUE` arguments on the command line override the file; `+=`
 * appends to a string or a list set before (or sets it if it was not).
 *
 * Invariants: a struct cfg owns every string and value in it; a parse
 * that fails leaves the cfg as it was before the call, so the settings of
 * one text never half-apply; every setting remembers the source name and
 * line that last set it, for messages.
 */
#ifndef PVKIT_CFG_H
#define PVKIT_CFG_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_ERR_MAX 512 /* room for one error message */

enum cfg_type { CFG_STRING, CFG_LIST };

struct cfg_value {
    enum cfg_type type;
    char *str;                /* CFG_STRING: the text, NUL-terminated */
    bool quoted;              /* CFG_STRING: written in quotes (not a bare number) */
    struct cfg_value **items; /* CFG_LIST */
    size_t nr_items;
};

struct cfg_setting {
    char *key;
    struct cfg_value *value;
    const char *source; /* the name given to cfg_parse (owned by the cfg) */
    int line;
    bool used;          /* looked up through cfg_find: a key somebody knows */
};

struct cfg {
    struct cfg_setting *settings;
    size_t nr_settings;
    char **sources;     /* the source names, kept for the settings' lifetime */
    size_t nr_sources;
};

/*
 * Makes MSG one printable line: every control character in it (a line end
 * or escape a quoted token or value held) becomes '?'. Every error and
 * warning of the reader passes through it.
 */
void cfg_one_line(char *msg);

/* An empty configuration. */
void cfg_init(struct cfg *c);

/* Frees everything C holds and leaves it empty. */
void cfg_free(struct cfg *c);

/*
 * Parses LEN bytes of TEXT (NUL bytes refused), named SOURCE in messages,
 * and applies its settings to C. 0 on success; -EINVAL with
 * "SOURCE:LINE: config parsing error near `TOKEN': WHY" in ERR on a syntax
 * error; -ENOMEM. On failure C is unchanged.
 */
int cfg_parse(struct cfg *c, const char *text, size_t len, const char *source,
              char err[CFG_ERR_MAX]);

/* Reads the file PATH whole and parses it (named PATH). -errno from the
 * read ("PATH: strerror" in ERR) or cfg_parse's errors. */
int cfg_parse_file(struct cfg *c, const char *path, char err[CFG_ERR_MAX]);

/* The setting of KEY, or NULL; marks it used. */
struct cfg_setting *cfg_find(struct cfg *c, const char *key);

/*
 * Typed lookups: 0 and the value in *OUT; -ENOENT if KEY is not set (OUT
 * untouched); -EINVAL with "SOURCE:LINE: KEY: WHY" in ERR if the value has
 * the wrong type (a list for a string; not a whole number in C's strtol
 * base-0 syntax, or out of [MIN, MAX], for a number; quoted numbers are
 * accepted, as xl does). cfg_get_string's *OUT stays owned by C.
 */
int cfg_get_string(struct cfg *c, const char *key, const char **out, char err[CFG_ERR_MAX]);
int cfg_get_long(struct cfg *c, const char *key, long min, long max, long *out,
                 char err[CFG_ERR_MAX]);
/* A list of strings: *OUT points into C; -EINVAL if the value is not a
 * list (as xl says) or an item is itself a list. */
int cfg_get_list(struct cfg *c, const char *key, struct cfg_value ***out, size_t *nr,
                 char err[CFG_ERR_MAX]);

#endif
