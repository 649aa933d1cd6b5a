/*
 * util: what every part of the pvkit command shares: its one-line error
 * messages ("pvkit: WHAT: WHY" on stderr), checked allocation, reading a
 * whole file, and xl's number syntaxes (domain ids, memory sizes).
 *
 * Invariant: nothing here exits except xmalloc/xstrdup/xasprintf on
 * allocation failure (a command cannot go on without memory).
 */
#ifndef PVKIT_UTIL_H
#define PVKIT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROG "pvkit"

/* Prints "pvkit: " FMT "\n" on stderr. Always returns 1 (a command's exit status). */
int __attribute__((format(printf, 1, 2))) err_msg(const char *fmt, ...);
/* err_msg with FMT's arguments in AP. Returns 1. */
int __attribute__((format(printf, 1, 0))) verr_msg(const char *fmt, va_list ap);

/* Prints "pvkit: warning: " FMT "\n" on stderr. */
void __attribute__((format(printf, 1, 2))) warn_msg(const char *fmt, ...);

/* malloc/calloc/strdup/asprintf that print one line and exit(1) when memory is gone. */
/* Formats one line into ERR (SIZE bytes) and returns RC: the "fail with a
 * message" step of functions that report through an error buffer. */
int __attribute__((format(printf, 4, 5))) errbuf_fail(char *err, size_t size, int rc,
                                                   const char *fmt, ...);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *__attribute__((format(printf, 1, 2))) xasprintf(const char *fmt, ...);

/*
 * Reads the whole file PATH into a fresh buffer (*BUF, with a NUL after
 * the *LEN bytes, free()d by the caller), refusing more than MAX bytes.
 * 0, or -errno (-EFBIG past MAX, -EISDIR for a directory); *BUF untouched on error.
 */
int read_whole_file(const char *path, size_t max, unsigned char **buf, size_t *len);

/*
 * Parses a domain id: decimal digits only, 0..32751 (DOMID_FIRST_RESERVED - 1).
 * True and *ID on success; false for anything else (which is then a name).
 */
bool parse_domid(const char *s, uint32_t *id);

/*
 * Parses a memory size as xl's mem-set does: a whole number followed by an
 * optional unit b, k, m, g or t (either case); no unit means MiB. The size
 * in KiB in *KB (bytes rounded down). 0, or -EINVAL (not a number, unknown
 * unit, zero when ALLOW_ZERO is false) or -ERANGE (overflow).
 */
int parse_mem_kb(const char *s, bool allow_zero, uint64_t *kb);

/* True if process PID runs and its command (/proc/PID/comm) is NAME. */
bool process_is(pid_t pid, const char *name);

/* Parses a whole decimal number in [MIN, MAX]. 0 or -EINVAL. */
int parse_long(const char *s, long min, long max, long *out);

#endif
