/*
 * util: shared helpers of the pvkit command (util.h).
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints PREFIX, FMT with AP and a newline on stderr, after stdout's
 * pending output. */
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int verr_msg(const char *fmt, va_list ap)
{
    vmsg(PROG ": ", fmt, ap);
    return 1;
}

int err_msg(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verr_msg(fmt, ap);
    va_end(ap);
    return 1;
}

void warn_msg(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg(PROG ": warning: ", fmt, ap);
    va_end(ap);
}

static void *checked(void *p)
{
    if (!p) {
        err_msg("out of memory");
        exit(1);
    }
    return p;
}

int errbuf_fail(char *err, size_t size, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return rc;
}

void *xmalloc(size_t n)
{
    return checked(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
    return checked(calloc(n ? n : 1, size ? size : 1));
}

char *xstrdup(const char *s)
{
    return checked(strdup(s));
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return checked(s);
}

bool process_is(pid_t pid, const char *name)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    if (!fgets(comm, sizeof(comm), f))
        comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    return strcmp(comm, name) == 0;
}

int read_whole_file(const char *path, size_t max, unsigned char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unsigned char *b;
    size_t got = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    b = malloc(cap);
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (got + 1 >= cap) {
            if (cap > max + 1) {
                free(b);
                close(fd);
                return -EFBIG;
            }
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                close(fd);
                return -ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, b + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(b);
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got > max) {
        free(b);
        return -EFBIG;
    }
    b[got] = 0;
    *buf = b;
    *len = got;
    return 0;
}

bool parse_domid(const char *s, uint32_t *id)
{
    uint32_t v = 0;

    if (!*s || strlen(s) > 5)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint32_t)(*p - '0');
    }
    if (v >= 0x7FF0) /* DOMID_FIRST_RESERVED */
        return false;
    *id = v;
    return true;
}

int parse_mem_kb(const char *s, bool allow_zero, uint64_t *kb)
{
    const char *p = s;
    uint64_t v = 0;
    unsigned shift_up = 10; /* MiB -> KiB */

    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    bool bytes = false;
    switch (*p) {
    case 0: break;
    case 'b': case 'B': bytes = true; break;
    case 'k': case 'K': shift_up = 0; break;
    case 'm': case 'M': shift_up = 10; break;
    case 'g': case 'G': shift_up = 20; break;
    case 't': case 'T': shift_up = 30; break;
    default: return -EINVAL;
    }
    if (*p && p[1])
        return -EINVAL;
    if (bytes) {
        v >>= 10;
    } else {
        if (v > (UINT64_MAX >> shift_up))
            return -ERANGE;
        v <<= shift_up;
    }
    if (v == 0 && !allow_zero)
        return -EINVAL;
    *kb = v;
    return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!*s)
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}
