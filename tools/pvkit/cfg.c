/*
 * cfg: the xl.cfg syntax (cfg.h). A hand-written lexer and a recursive
 * descent parser; the parse works on a copy of the configuration, which
 * replaces the original only once the whole text has been accepted, so a
 * syntax error anywhere leaves the caller's settings untouched.
 */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_FILE_MAX (1 << 20) /* a config file larger than this is refused */
#define CFG_DEPTH_MAX 16       /* lists nested deeper than this are refused */

enum tok { T_EOF, T_NL, T_SEMI, T_IDENT, T_NUMBER, T_STRING, T_SET, T_APPEND,
           T_LBRACK, T_RBRACK, T_COMMA, T_BAD };

struct parser {
    const char *p, *end;
    int line;
    enum tok tok;
    const char *tok_start; /* the current token's text, for messages */
    size_t tok_len;
    char *text;            /* T_IDENT/T_NUMBER/T_STRING: the value (owned) */
    const char *source;
    char *err;
    int rc;                /* the first error; later ones are not reported */
};

void cfg_one_line(char *msg)
{
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = '?';
}

static void fail(struct parser *ps, int rc, const char *why)
{
    if (ps->rc)
        return;
    ps->rc = rc;
    if (rc == -ENOMEM) {
        snprintf(ps->err, CFG_ERR_MAX, "%s: out of memory", ps->source);
        return;
    }
    if (ps->tok == T_EOF)
        snprintf(ps->err, CFG_ERR_MAX, "%s:%d: config parsing error at end of file: %s",
                 ps->source, ps->line, why);
    else if (ps->tok == T_NL)
        snprintf(ps->err, CFG_ERR_MAX, "%s:%d: config parsing error at end of line: %s",
                 ps->source, ps->line, why);
    else
        snprintf(ps->err, CFG_ERR_MAX, "%s:%d: config parsing error near `%.*s': %s",
                 ps->source, ps->line, (int)(ps->tok_len > 40 ? 40 : ps->tok_len),
                 ps->tok_start, why);
    cfg_one_line(ps->err);
}

static bool is_ident_start(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hex_value(char ch)
{
    if (is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes the quoted string at ps->p (its opening quote) into ps->text.
 * Leaves ps->p after the closing quote; T_BAD if it is not closed on this
 * line or holds a bad escape or a NUL. */
static enum tok lex_string(struct parser *ps)
{
    char quote = *ps->p++;
    char *out = malloc((size_t)(ps->end - ps->p) + 1);
    size_t n = 0;

    if (!out) {
        fail(ps, -ENOMEM, "");
        return T_BAD;
    }
    while (ps->p < ps->end && *ps->p != quote && *ps->p != '\n') {
        char ch = *ps->p++;
        if (ch == '\\' && ps->p < ps->end) {
            char e = *ps->p++;
            int v = 0, digits = 0;
            switch (e) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'x':
                while (digits < 2 && ps->p < ps->end && hex_value(*ps->p) >= 0)
                    v = v * 16 + hex_value(*ps->p++), digits++;
                if (!digits)
                    goto bad;
                ch = (char)v;
                break;
            default:
                if (e >= '0' && e <= '7') {
                    v = e - '0';
                    while (++digits < 3 && ps->p < ps->end && *ps->p >= '0' && *ps->p <= '7')
                        v = v * 8 + (*ps->p++ - '0');
                    if (v > 0xff)
                        goto bad;
                    ch = (char)v;
                } else {
                    ch = e; /* \\ \" \' and any other character stand for themselves */
                }
            }
        }
        if (ch == '\0')
            goto bad;
        out[n++] = ch;
    }
    if (ps->p >= ps->end || *ps->p != quote)
        goto bad;
    ps->p++;
    out[n] = '\0';
    ps->text = out;
    return T_STRING;
bad:
    free(out);
    return T_BAD;
}

/* Copies [START, ps->p) into ps->text. */
static enum tok take_text(struct parser *ps, const char *start, enum tok t)
{
    size_t n = (size_t)(ps->p - start);

    ps->text = malloc(n + 1);
    if (!ps->text) {
        fail(ps, -ENOMEM, "");
        return T_BAD;
    }
    memcpy(ps->text, start, n);
    ps->text[n] = '\0';
    return t;
}

/* Reads the next token into ps->tok (and ps->text for words and strings). */
static void next(struct parser *ps)
{
    free(ps->text);
    ps->text = NULL;
    if (ps->tok == T_NL)
        ps->line++;
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
    if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n')
            ps->p++;
    ps->tok_start = ps->p;
    if (ps->p >= ps->end) {
        ps->tok = T_EOF;
    } else if (*ps->p == '"' || *ps->p == '\'') {
        ps->tok = lex_string(ps);
    } else if (is_ident_start(*ps->p)) {
        const char *s = ps->p;
        while (ps->p < ps->end && (is_ident_start(*ps->p) || is_digit(*ps->p) || *ps->p == '.'))
            ps->p++;
        ps->tok = take_text(ps, s, T_IDENT);
    } else if (is_digit(*ps->p)) {
        const char *s = ps->p;
        while (ps->p < ps->end && (is_ident_start(*ps->p) || is_digit(*ps->p) ||
                                   *ps->p == '.' || *ps->p == '+' || *ps->p == '-'))
            ps->p++;
        ps->tok = take_text(ps, s, T_NUMBER);
    } else if (ps->p + 1 < ps->end && ps->p[0] == '+' && ps->p[1] == '=') {
        ps->p += 2;
        ps->tok = T_APPEND;
    } else {
        switch (*ps->p++) {
        case '\n': ps->tok = T_NL; break;
        case ';': ps->tok = T_SEMI; break;
        case '=': ps->tok = T_SET; break;
        case '[': ps->tok = T_LBRACK; break;
        case ']': ps->tok = T_RBRACK; break;
        case ',': ps->tok = T_COMMA; break;
        default: ps->tok = T_BAD;
        }
    }
    ps->tok_len = (size_t)(ps->p - ps->tok_start);
    if (ps->tok == T_BAD)
        fail(ps, -EINVAL, ps->tok_len && (*ps->tok_start == '"' || *ps->tok_start == '\'')
                              ? "unterminated string or bad escape"
                              : "unexpected character");
}

static void value_free(struct cfg_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nr_items; i++)
        value_free(v->items[i]);
    free(v->items);
    free(v->str);
    free(v);
}

static struct cfg_value *value_clone(const struct cfg_value *v)
{
    struct cfg_value *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->type = v->type;
    c->quoted = v->quoted;
    if (v->type == CFG_STRING) {
        c->str = strdup(v->str);
        if (!c->str)
            goto nomem;
        return c;
    }
    c->items = calloc(v->nr_items ? v->nr_items : 1, sizeof(*c->items));
    if (!c->items)
        goto nomem;
    for (; c->nr_items < v->nr_items; c->nr_items++) {
        c->items[c->nr_items] = value_clone(v->items[c->nr_items]);
        if (!c->items[c->nr_items])
            goto nomem;
    }
    return c;
nomem:
    value_free(c);
    return NULL;
}

static void skip_newlines(struct parser *ps)
{
    while (ps->tok == T_NL)
        next(ps);
}

/* Appends ITEM to list L; frees ITEM and fails on ENOMEM. */
static void list_push(struct parser *ps, struct cfg_value *l, struct cfg_value *item)
{
    struct cfg_value **items = realloc(l->items, (l->nr_items + 1) * sizeof(*items));

    if (!items) {
        value_free(item);
        fail(ps, -ENOMEM, "");
        return;
    }
    l->items = items;
    l->items[l->nr_items++] = item;
}

static struct cfg_value *parse_value(struct parser *ps, int depth);

/* '[' has been read: the items up to the matching ']'. */
static struct cfg_value *parse_list(struct parser *ps, int depth)
{
    struct cfg_value *l = calloc(1, sizeof(*l));

    if (!l) {
        fail(ps, -ENOMEM, "");
        return NULL;
    }
    l->type = CFG_LIST;
    next(ps);
    skip_newlines(ps);
    while (!ps->rc && ps->tok != T_RBRACK) {
        struct cfg_value *item = parse_value(ps, depth + 1);
        if (!item)
            break;
        list_push(ps, l, item);
        skip_newlines(ps);
        if (ps->tok == T_COMMA) {
            next(ps);
            skip_newlines(ps);
        } else if (ps->tok != T_RBRACK) {
            fail(ps, -EINVAL, "expected `,' or `]' in a list");
        }
    }
    if (ps->rc) {
        value_free(l);
        return NULL;
    }
    next(ps); /* the ']' */
    return l;
}

static struct cfg_value *parse_value(struct parser *ps, int depth)
{
    struct cfg_value *v;

    if (depth > CFG_DEPTH_MAX) {
        fail(ps, -EINVAL, "lists nested too deeply");
        return NULL;
    }
    if (ps->tok == T_LBRACK)
        return parse_list(ps, depth);
    if (ps->tok != T_STRING && ps->tok != T_NUMBER) {
        fail(ps, -EINVAL, ps->tok == T_IDENT ? "a string value must be quoted"
                                             : "expected a value (string, number or list)");
        return NULL;
    }
    v = calloc(1, sizeof(*v));
    if (!v) {
        fail(ps, -ENOMEM, "");
        return NULL;
    }
    v->type = CFG_STRING;
    v->quoted = ps->tok == T_STRING;
    v->str = ps->text;
    ps->text = NULL;
    next(ps);
    return v;
}

static int source_index(struct cfg *c, const char *source)
{
    for (size_t i = 0; i < c->nr_sources; i++)
        if (!strcmp(c->sources[i], source))
            return (int)i;
    char **s = realloc(c->sources, (c->nr_sources + 1) * sizeof(*s));
    if (!s)
        return -ENOMEM;
    c->sources = s;
    c->sources[c->nr_sources] = strdup(source);
    if (!c->sources[c->nr_sources])
        return -ENOMEM;
    return (int)c->nr_sources++;
}

static struct cfg_setting *lookup(struct cfg *c, const char *key)
{
    for (size_t i = 0; i < c->nr_settings; i++)
        if (!strcmp(c->settings[i].key, key))
            return &c->settings[i];
    return NULL;
}

/* KEY op V at LINE, applied to C (which takes V, or frees it on failure). */
static void apply(struct parser *ps, struct cfg *c, char *key, bool append,
                  struct cfg_value *v, int line)
{
    struct cfg_setting *s = lookup(c, key);
    int src = source_index(c, ps->source);

    if (src < 0)
        goto nomem;
    if (s && append) {
        struct cfg_value *old = s->value;
        if (old->type != v->type) {
            value_free(v);
            fail(ps, -EINVAL, "`+=' must add a string to a string or a list to a list");
            return;
        }
        if (old->type == CFG_STRING) {
            size_t a = strlen(old->str), b = strlen(v->str);
            char *joined = realloc(old->str, a + b + 1);
            if (!joined)
                goto nomem;
            memcpy(joined + a, v->str, b + 1);
            old->str = joined;
            old->quoted = old->quoted || v->quoted;
        } else {
            for (size_t i = 0; i < v->nr_items; i++) {
                list_push(ps, old, v->items[i]);
                v->items[i] = NULL;
            }
        }
        value_free(v);
    } else if (s) {
        value_free(s->value);
        s->value = v;
    } else {
        struct cfg_setting *ns = realloc(c->settings, (c->nr_settings + 1) * sizeof(*ns));
        char *k = strdup(key);
        if (!ns || !k) {
            free(k);
            if (ns)
                c->settings = ns;
            goto nomem;
        }
        c->settings = ns;
        s = &c->settings[c->nr_settings++];
        *s = (struct cfg_setting){ .key = k, .value = v };
    }
    s->source = c->sources[src];
    s->line = line;
    return;
nomem:
    value_free(v);
    fail(ps, -ENOMEM, "");
}

/* One statement: empty, or KEY (=|+=) VALUE, up to its end. */
static void parse_statement(struct parser *ps, struct cfg *c)
{
    char *key;
    bool append;
    int line = ps->line;
    struct cfg_value *v;

    if (ps->tok == T_NL || ps->tok == T_SEMI) {
        next(ps);
        return;
    }
    if (ps->tok != T_IDENT) {
        fail(ps, -EINVAL, "expected a setting `KEY = VALUE'");
        return;
    }
    key = ps->text;
    ps->text = NULL;
    next(ps);
    if (ps->tok != T_SET && ps->tok != T_APPEND) {
        fail(ps, -EINVAL, "expected `=' or `+=' after the key");
        free(key);
        return;
    }
    append = ps->tok == T_APPEND;
    next(ps);
    v = parse_value(ps, 0);
    if (v && ps->tok != T_NL && ps->tok != T_SEMI && ps->tok != T_EOF) {
        fail(ps, -EINVAL, "expected the end of the setting (a new line or `;')");
        value_free(v);
        v = NULL;
    }
    if (v)
        apply(ps, c, key, append, v, line);
    free(key);
}

void cfg_init(struct cfg *c)
{
    *c = (struct cfg){ 0 };
}

void cfg_free(struct cfg *c)
{
    for (size_t i = 0; i < c->nr_settings; i++) {
        free(c->settings[i].key);
        value_free(c->settings[i].value);
    }
    free(c->settings);
    for (size_t i = 0; i < c->nr_sources; i++)
        free(c->sources[i]);
    free(c->sources);
    cfg_init(c);
}

/* A deep copy of SRC in DST (empty on -ENOMEM). */
static int cfg_clone(struct cfg *dst, const struct cfg *src)
{
    cfg_init(dst);
    dst->sources = calloc(src->nr_sources + 1, sizeof(*dst->sources));
    dst->settings = calloc(src->nr_settings + 1, sizeof(*dst->settings));
    if (!dst->sources || !dst->settings)
        goto nomem;
    for (; dst->nr_sources < src->nr_sources; dst->nr_sources++) {
        dst->sources[dst->nr_sources] = strdup(src->sources[dst->nr_sources]);
        if (!dst->sources[dst->nr_sources])
            goto nomem;
    }
    for (size_t i = 0; i < src->nr_settings; i++) {
        const struct cfg_setting *s = &src->settings[i];
        struct cfg_setting *d = &dst->settings[i];
        size_t si = 0;
        while (src->sources[si] != s->source)
            si++;
        *d = (struct cfg_setting){ .key = strdup(s->key), .value = value_clone(s->value),
                                   .source = dst->sources[si], .line = s->line,
                                   .used = s->used };
        dst->nr_settings++;
        if (!d->key || !d->value)
            goto nomem;
    }
    return 0;
nomem:
    cfg_free(dst);
    return -ENOMEM;
}

int cfg_parse(struct cfg *c, const char *text, size_t len, const char *source,
              char err[CFG_ERR_MAX])
{
    struct parser ps = { .p = text, .end = text + len, .line = 1, .tok = T_SEMI,
                         .source = source, .err = err };
    struct cfg work;

    err[0] = '\0';
    if (memchr(text, '\0', len)) {
        snprintf(err, CFG_ERR_MAX, "%s: config parsing error: the file holds a NUL byte",
                 source);
        return -EINVAL;
    }
    if (cfg_clone(&work, c)) {
        snprintf(err, CFG_ERR_MAX, "%s: out of memory", source);
        return -ENOMEM;
    }
    next(&ps);
    while (!ps.rc && ps.tok != T_EOF)
        parse_statement(&ps, &work);
    free(ps.text);
    if (ps.rc) {
        cfg_free(&work);
        return ps.rc;
    }
    cfg_free(c);
    *c = work;
    return 0;
}

int cfg_parse_file(struct cfg *c, const char *path, char err[CFG_ERR_MAX])
{
    struct stat st;
    char *buf;
    ssize_t n;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        goto sys_error;
    if (fstat(fd, &st))
        goto sys_error_fd;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto sys_error_fd;
    }
    if (st.st_size > CFG_FILE_MAX) {
        errno = EFBIG;
        goto sys_error_fd;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        errno = ENOMEM;
        goto sys_error_fd;
    }
    n = read(fd, buf, (size_t)st.st_size + 1);
    if (n < 0 || n > st.st_size) {
        if (n >= 0)
            errno = EAGAIN; /* the file grew while we read it */
        free(buf);
        goto sys_error_fd;
    }
    close(fd);
    rc = cfg_parse(c, buf, (size_t)n, path, err);
    free(buf);
    return rc;
sys_error_fd:
    rc = errno;
    close(fd);
    errno = rc;
sys_error:
    rc = errno;
    snprintf(err, CFG_ERR_MAX, "%s: %s", path, strerror(rc));
    return -rc;
}

struct cfg_setting *cfg_find(struct cfg *c, const char *key)
{
    struct cfg_setting *s = lookup(c, key);

    if (s)
        s->used = true;
    return s;
}

static int type_error(const struct cfg_setting *s, char err[CFG_ERR_MAX], const char *why)
{
    snprintf(err, CFG_ERR_MAX, "%s:%d: %s: %s", s->source, s->line, s->key, why);
    cfg_one_line(err);
    return -EINVAL;
}

int cfg_get_string(struct cfg *c, const char *key, const char **out, char err[CFG_ERR_MAX])
{
    struct cfg_setting *s = cfg_find(c, key);

    if (!s)
        return -ENOENT;
    if (s->value->type != CFG_STRING)
        return type_error(s, err, "is a list but should be a single value");
    *out = s->value->str;
    return 0;
}

int cfg_get_long(struct cfg *c, const char *key, long min, long max, long *out,
                 char err[CFG_ERR_MAX])
{
    const char *str = NULL; /* set when cfg_get_string succeeds (gcc -O2 cannot tell) */
    char *end;
    long v;
    int rc = cfg_get_string(c, key, &str, err);

    if (rc)
        return rc;
    errno = 0;
    v = strtol(str, &end, 0);
    if (!*str || *end || errno == ERANGE)
        return type_error(cfg_find(c, key), err, "not a valid number");
    if (v < min || v > max) {
        char why[96];
        snprintf(why, sizeof(why), "%ld is out of range (%ld to %ld)", v, min, max);
        return type_error(cfg_find(c, key), err, why);
    }
    *out = v;
    return 0;
}

int cfg_get_list(struct cfg *c, const char *key, struct cfg_value ***out, size_t *nr,
                 char err[CFG_ERR_MAX])
{
    struct cfg_setting *s = cfg_find(c, key);

    if (!s)
        return -ENOENT;
    if (s->value->type != CFG_LIST)
        return type_error(s, err, "is a single value but should be a list");
    for (size_t i = 0; i < s->value->nr_items; i++)
        if (s->value->items[i]->type != CFG_STRING)
            return type_error(s, err, "a list item is itself a list");
    *out = s->value->items;
    *nr = s->value->nr_items;
    return 0;
}
