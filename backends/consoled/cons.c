/*
 * cons: console-ring and log-name logic of pvkit-consoled (cons.h).
 */
#include "cons.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

size_t cons_take(struct xencons_interface *ring, char *dst, size_t n)
{
    XENCONS_RING_IDX prod = __atomic_load_n(&ring->out_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX cons = __atomic_load_n(&ring->out_cons, __ATOMIC_RELAXED);
    size_t got = 0;

    if (prod - cons > sizeof(ring->out))
        cons = prod - sizeof(ring->out); /* bogus: keep the newest ring-full */
    while (cons != prod && got < n)
        dst[got++] = ring->out[MASK_XENCONS_IDX(cons++, ring->out)];
    __atomic_store_n(&ring->out_cons, cons, __ATOMIC_RELEASE);
    return got;
}

size_t cons_put(struct xencons_interface *ring, const char *src, size_t n)
{
    XENCONS_RING_IDX cons = __atomic_load_n(&ring->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = __atomic_load_n(&ring->in_prod, __ATOMIC_RELAXED);
    size_t put = 0;

    if (prod - cons > sizeof(ring->in))
        return 0; /* bogus indices: the guest must repair its consumer first */
    while (put < n && prod - cons < sizeof(ring->in))
        ring->in[MASK_XENCONS_IDX(prod++, ring->in)] = src[put++];
    __atomic_store_n(&ring->in_prod, prod, __ATOMIC_RELEASE);
    return put;
}

void cons_log_name(const char *name, uint32_t domid, char *out)
{
    const size_t keep = CONS_LOG_NAME_MAX - sizeof(".log");
    size_t n = 0;

    for (; name && name[n] && n < keep; n++) {
        char c = name[n];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || (c == '.' && n > 0);
        out[n] = plain ? c : '_';
    }
    if (n == 0)
        n = (size_t)snprintf(out, keep, "d%u", domid);
    memcpy(out + n, ".log", sizeof(".log"));
}
