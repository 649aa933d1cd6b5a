/*
 * Freestanding string and memory helpers for the test kernels. Plain byte
 * loops: the kernels are tiny and clarity beats speed here. memset/memcpy
 * keep their C names because the compiler may emit calls to them.
 */
#include "guest.h"

/* The same loops as hypervisor/common/lib.c: a test kernel links no hypervisor object (two freestanding worlds). */
size_t guest_strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t guest_strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int guest_strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; a++, b++, n--) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

int guest_strcmp(const char *a, const char *b)
{
    return guest_strncmp(a, b, (size_t)-1);
}

const char *guest_strstr(const char *hay, const char *needle)
{
    size_t n = guest_strlen(needle);

    for (; *hay; hay++)
        if (guest_strncmp(hay, needle, n) == 0)
            return hay;
    return n == 0 ? hay : NULL;
}

int guest_memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n > 0; x++, y++, n--)
        if (*x != *y)
            return *x - *y;
    return 0;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}
