/*
 * bootcfg: grub.cfg and extlinux.conf menus (bootcfg.h). Both are read a
 * line at a time; a grub.cfg line is split into words with GRUB's
 * quoting ('...' literal, "..." with backslash escapes, a backslash
 * quoting one character), without variable expansion.
 */
#include "bootcfg.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORDS 64

enum block { BLOCK_MENU, BLOCK_SUBMENU, BLOCK_OTHER };

struct parser {
    struct boot_config *c;
    struct boot_entry *cur;         /* the menuentry being read, or NULL */
    enum block stack[BOOTCFG_MAX_NEST];
    int depth;
    int top, sub, submenu_top;      /* menu positions (grub.cfg) */
    char *err;
};

/* One line into ERR; returns RC. */
#define fail(err, rc, ...) errbuf_fail(err, BOOT_ERR_MAX, rc, __VA_ARGS__)

/*
 * Splits LINE in place into at most MAX_WORDS words, unquoting them; a
 * word starting with '#' ends the line. The number of words.
 */
static int split_words(char *line, char *words[MAX_WORDS])
{
    int n = 0;
    char *in = line, *out = line;

    while (n < MAX_WORDS) {
        while (*in == ' ' || *in == '\t' || *in == '\r')
            in++;
        if (!*in || *in == '#')
            break;
        words[n++] = out;
        char quote = 0;
        for (; *in && (quote || (*in != ' ' && *in != '\t' && *in != '\r')); in++) {
            if (quote == '\'' && *in == '\'')
                quote = 0;
            else if (quote == '"' && *in == '"')
                quote = 0;
            else if (!quote && (*in == '\'' || *in == '"'))
                quote = *in;
            else if (quote != '\'' && *in == '\\' && in[1])
                *out++ = *++in;
            else
                *out++ = *in;
        }
        if (*in)
            in++;
        *out++ = '\0';
    }
    return n;
}

/* A copy of PATH without a leading GRUB device "(hd0,msdos1)". */
static char *strip_device(const char *path)
{
    if (path[0] == '(' && strchr(path, ')'))
        path = strchr(path, ')') + 1;
    return strdup(path);
}

/* WORDS[FROM..N) joined by single spaces. */
static char *join(char **words, int from, int n)
{
    size_t len = 1;

    for (int i = from; i < n; i++)
        len += strlen(words[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (int i = from; i < n; i++)
        p += sprintf(p, "%s%s", i > from ? " " : "", words[i]);
    return s;
}

static struct boot_entry *new_entry(struct parser *p, const char *title)
{
    if (p->c->nr == BOOTCFG_MAX_ENTRIES) {
        fail(p->err, -EINVAL, "more than %d boot entries", BOOTCFG_MAX_ENTRIES);
        return NULL;
    }
    struct boot_entry *e = &p->c->entries[p->c->nr++];
    e->title = strdup(title);
    e->args = strdup("");
    if (!e->title || !e->args) {
        fail(p->err, -ENOMEM, "out of memory");
        return NULL;
    }
    return e;
}

static int set_string(char **slot, char *value, char *err)
{
    free(*slot);
    *slot = value;
    return value ? 0 : fail(err, -ENOMEM, "out of memory");
}

static int add_initrd(struct boot_entry *e, const char *path, char *err)
{
    if (e->nr_initrds == BOOTCFG_MAX_INITRDS)
        return fail(err, -EINVAL, "%s: more than %d initrds", e->title, BOOTCFG_MAX_INITRDS);
    e->initrds[e->nr_initrds] = strip_device(path);
    return e->initrds[e->nr_initrds++] ? 0 : fail(err, -ENOMEM, "out of memory");
}

static int push(struct parser *p, enum block b)
{
    if (p->depth == BOOTCFG_MAX_NEST)
        return fail(p->err, -EINVAL, "blocks nested more than %d deep", BOOTCFG_MAX_NEST);
    p->stack[p->depth++] = b;
    return 0;
}

/* `menuentry TITLE ... {` */
static int grub_menuentry(struct parser *p, char **w, int n)
{
    struct boot_entry *e = new_entry(p, n > 1 ? w[1] : "");
    if (!e)
        return -EINVAL;
    for (int i = 2; i + 1 < n; i++)
        if (!strcmp(w[i], "--id") || !strcmp(w[i], "$menuentry_id_option"))
            if (set_string(&e->id, strdup(w[i + 1]), p->err))
                return -ENOMEM;
    bool in_sub = p->depth && p->stack[p->depth - 1] == BLOCK_SUBMENU;
    e->top = in_sub ? p->submenu_top : p->top++;
    e->sub = in_sub ? p->sub++ : -1;
    p->cur = e;
    return push(p, BLOCK_MENU);
}

/* A command inside a menuentry. */
static int grub_entry_command(struct parser *p, char **w, int n)
{
    struct boot_entry *e = p->cur;

    if ((!strcmp(w[0], "linux") || !strcmp(w[0], "linux16") || !strcmp(w[0], "linuxefi")) &&
        n > 1) {
        if (set_string(&e->kernel, strip_device(w[1]), p->err))
            return -ENOMEM;
        return set_string(&e->args, join(w, 2, n), p->err);
    }
    if (!strcmp(w[0], "initrd") || !strcmp(w[0], "initrd16") || !strcmp(w[0], "initrdefi"))
        for (int i = 1; i < n; i++) {
            int rc = add_initrd(e, w[i], p->err);
            if (rc)
                return rc;
        }
    return 0;
}

static int grub_line(struct parser *p, char *line)
{
    char *w[MAX_WORDS];
    int n = split_words(line, w);

    if (n == 0)
        return 0;
    if (!strcmp(w[0], "}")) {
        if (p->depth && p->stack[--p->depth] == BLOCK_MENU)
            p->cur = NULL;
        return 0;
    }
    bool opens = !strcmp(w[n - 1], "{");
    if (!strcmp(w[0], "menuentry") && opens)
        return grub_menuentry(p, w, n - 1);
    if (!strcmp(w[0], "submenu") && opens) {
        p->submenu_top = p->top++;
        p->sub = 0;
        return push(p, BLOCK_SUBMENU);
    }
    if (opens)
        return push(p, BLOCK_OTHER);
    if (p->cur)
        return grub_entry_command(p, w, n);
    if (!strcmp(w[0], "set") && n > 1 && !strncmp(w[1], "default=", 8))
        return set_string(&p->c->default_entry, strdup(w[1] + 8), p->err);
    return 0;
}

/* One extlinux.conf line. */
static int extlinux_line(struct parser *p, char *line)
{
    while (isspace((unsigned char)*line))
        line++;
    size_t klen = strcspn(line, " \t\r");
    char *arg = line + klen;
    while (isspace((unsigned char)*arg))
        arg++;
    arg[strcspn(arg, "\r")] = '\0';
    struct boot_entry *e = p->cur;

    if (klen == 5 && !strncasecmp(line, "label", 5)) {
        if (!(p->cur = new_entry(p, arg)))
            return -EINVAL;
        p->cur->top = p->top++;
        p->cur->sub = -1;
        return set_string(&p->cur->id, strdup(arg), p->err);
    }
    if (klen == 7 && !strncasecmp(line, "default", 7) && !strstr(arg, ".c32"))
        return set_string(&p->c->default_entry, strdup(arg), p->err);
    if (!e)
        return 0;
    if ((klen == 6 && !strncasecmp(line, "kernel", 6)) ||
        (klen == 5 && !strncasecmp(line, "linux", 5)))
        return set_string(&e->kernel, strdup(arg), p->err);
    if (klen == 6 && !strncasecmp(line, "append", 6))
        return set_string(&e->args, strdup(arg), p->err);
    if (klen == 6 && !strncasecmp(line, "initrd", 6)) {
        for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
            int rc = add_initrd(e, tok, p->err);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (klen == 4 && !strncasecmp(line, "menu", 4)) {
        if (!strncasecmp(arg, "label", 5) && isspace((unsigned char)arg[5]))
            return set_string(&e->title, strdup(arg + 6), p->err);
        if (!strncasecmp(arg, "default", 7))
            return set_string(&p->c->default_entry, strdup(e->id), p->err);
    }
    return 0;
}

int bootcfg_parse(const char *text, size_t len, bool extlinux, struct boot_config *c,
                  char err[BOOT_ERR_MAX])
{
    struct parser p = { .c = c, .err = err };
    char *copy = malloc(len + 1);
    int rc = 0;

    memset(c, 0, sizeof(*c));
    if (!copy)
        return fail(err, -ENOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (char *line = copy, *next; line && !rc; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        rc = extlinux ? extlinux_line(&p, line) : grub_line(&p, line);
    }
    free(copy);
    if (rc)
        bootcfg_free(c);
    return rc;
}

/* The entry at menu position TOP (and SUB, or its first if SUB < 0), or -1. */
static int find_position(const struct boot_config *c, long top, long sub)
{
    for (unsigned i = 0; i < c->nr; i++)
        if (c->entries[i].top == top && (sub < 0 || c->entries[i].sub == sub))
            return (int)i;
    return -1;
}

/* The entry SEL names (index, "N>M", title or id), or -1. */
static int find_entry(const struct boot_config *c, const char *sel)
{
    char *end;
    long top = strtol(sel, &end, 10);

    if (isdigit((unsigned char)*sel) && !*end)
        return find_position(c, top, -1);
    if (isdigit((unsigned char)*sel) && *end == '>' && isdigit((unsigned char)end[1])) {
        char *end2;
        long sub = strtol(end + 1, &end2, 10);
        if (!*end2)
            return find_position(c, top, sub);
    }
    for (unsigned i = 0; i < c->nr; i++)
        if (!strcmp(c->entries[i].title, sel) || (c->entries[i].id && !strcmp(c->entries[i].id, sel)))
            return (int)i;
    return -1;
}

int bootcfg_choose(const struct boot_config *c, const char *select, char err[BOOT_ERR_MAX])
{
    int i;

    if (c->nr == 0)
        return fail(err, -ENOENT, "no boot entries");
    if (select) {
        if ((i = find_entry(c, select)) < 0)
            return fail(err, -ENOENT, "no boot entry \"%s\"", select);
    } else if (!c->default_entry || (i = find_entry(c, c->default_entry)) < 0) {
        i = 0;
    }
    if (!c->entries[i].kernel)
        return fail(err, -ENOENT, "boot entry \"%s\" loads no kernel", c->entries[i].title);
    return i;
}

void bootcfg_free(struct boot_config *c)
{
    for (unsigned i = 0; i < c->nr; i++) {
        struct boot_entry *e = &c->entries[i];
        free(e->title);
        free(e->id);
        free(e->kernel);
        free(e->args);
        for (unsigned j = 0; j < e->nr_initrds; j++)
            free(e->initrds[j]);
    }
    free(c->default_entry);
    memset(c, 0, sizeof(*c));
}
