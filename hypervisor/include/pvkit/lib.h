/*
 * Freestanding basics for the hypervisor: fixed-width types, memory and string
 * helpers, formatted output into buffers, and small utility macros. The
 * implementations in common/lib.c are plain C with no platform dependency, so
 * host unit tests link them too.
 */
#ifndef PVKIT_LIB_H
#define PVKIT_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)       (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)           ((a) < (b) ? (a) : (b))
#define MAX(a, b)           ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)      (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a)    ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a)    (((x) & ((a) - 1)) == 0)
#define BUILD_BUG_ON(c)     _Static_assert(!(c), #c)
/* For a hot-path helper whose callers each want their own specialised copy. */
#define ALWAYS_INLINE       inline __attribute__((always_inline))

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * Parses an unsigned number (decimal, or hex with 0x) from *s, advancing *s
 * past it. Returns false if no digit was found or the value overflowed.
 */
bool parse_u64(const char **s, uint64_t *out);

/* vsnprintf subset: %d %i %u %x %X %p %s %c %%, with l/ll/z, width, 0 and - flags. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
