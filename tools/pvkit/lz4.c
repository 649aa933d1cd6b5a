/*
 * lz4: the LZ4 block decoder (the block format of lz4's
 * doc/lz4_Block_format.md) for the legacy frames of Linux bzImages
 * (kernel.c). Written for hostile input: every read and write is bounds
 * checked, a match may not reach before the start of the output.
 */
#include "kernel.h"

#include <stdint.h>

/* Reads an LZ4 length extension (bytes of 255 then a final byte) onto *N. */
static int read_extra(const unsigned char **ip, const unsigned char *end, size_t *n)
{
    unsigned char b;
    do {
        if (*ip >= end)
            return -1;
        b = *(*ip)++;
        if (*n > SIZE_MAX - 255)
            return -1;
        *n += b;
    } while (b == 255);
    return 0;
}

long lz4_block_decompress(const unsigned char *src, size_t src_len, unsigned char *dst,
                          size_t dst_cap)
{
    const unsigned char *ip = src, *iend = src + src_len;
    unsigned char *op = dst, *oend = dst + dst_cap;

    while (ip < iend) {
        unsigned token = *ip++;
        size_t lit = token >> 4;
        if (lit == 15 && read_extra(&ip, iend, &lit))
            return -1;
        if (lit > (size_t)(iend - ip) || lit > (size_t)(oend - op))
            return -1;
        for (size_t i = 0; i < lit; i++)
            op[i] = ip[i];
        ip += lit;
        op += lit;
        if (ip == iend)
            break; /* the last sequence has literals only */
        if (iend - ip < 2)
            return -1;
        size_t offset = (size_t)ip[0] | (size_t)ip[1] << 8;
        ip += 2;
        if (offset == 0 || offset > (size_t)(op - dst))
            return -1;
        size_t ml = token & 15;
        if (ml == 15 && read_extra(&ip, iend, &ml))
            return -1;
        ml += 4;
        if (ml > (size_t)(oend - op))
            return -1;
        const unsigned char *m = op - offset;
        for (size_t i = 0; i < ml; i++) /* byte by byte: matches may overlap */
            op[i] = m[i];
        op += ml;
    }
    return (long)(op - dst);
}
