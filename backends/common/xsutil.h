/*
 * xsutil.h - small helpers over the libxenstore API (xenstore.h) that the
 * backends share: formatted reads and writes of one key, and the xenbus
 * state switch done in a transaction with retry on EAGAIN, as Linux's
 * __xenbus_switch_state does.  Paths are absolute.  Works with any
 * libxenstore-compatible client library (Debian's or xenstore-lite's).
 */
#ifndef PVK_XSUTIL_H
#define PVK_XSUTIL_H

#include <stdint.h>
#include <xenstore.h>

/* Reads "<dir>/<key>" as a malloc'd NUL-terminated string; NULL if absent. */
char *xsu_read(struct xs_handle *xs, xs_transaction_t t, const char *dir,
               const char *key);
/* Reads "<dir>/<key>" as an unsigned decimal; `def` if absent or invalid. */
uint64_t xsu_read_u64(struct xs_handle *xs, xs_transaction_t t,
                      const char *dir, const char *key, uint64_t def);
/* Like xsu_read_u64 but reports absence: returns 0 and sets *v, or -1. */
int xsu_get_u64(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                const char *key, uint64_t *v);
/* Like xsu_get_u64 for a 32-bit value: -1 if absent, invalid or larger. */
int xsu_get_u32(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                const char *key, uint32_t *v);
/* Writes printf-formatted text to "<dir>/<key>". Returns 0 or -1. */
int xsu_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
               const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reads "<dir>/state"; -1 if absent or not a state. */
int xsu_state(struct xs_handle *xs, const char *dir);
/* Writes "<dir>/state" = `state` in a transaction, retrying on EAGAIN;
 * -1 with errno ENOENT if "<dir>/state" is gone (the toolstack removed the
 * device: a write would recreate the node; Linux's xenbus_switch_state
 * checks the same). */
int xsu_switch_state(struct xs_handle *xs, const char *dir, int state);

#endif
