/*
 * pvf_util.h - freestanding helpers shared by the frontend cores: bounded
 * string building, decimal conversion and typed store access on top of
 * struct pvf_os.  No libc.  Every function that writes into a buffer is
 * bounded by its length argument and always NUL-terminates.
 */
#ifndef PVF_UTIL_H
#define PVF_UTIL_H

#include "pvf_os.h"

/* Length of a NUL-terminated string. */
unsigned pvf_strlen(const char *s);
/* Compares two strings; 0 if equal. */
int pvf_strcmp(const char *a, const char *b);
/* Builds "a/b" (or "a" if b is NULL) into buf; -XEN_E2BIG if too long. */
int pvf_join(char *buf, unsigned len, const char *a, const char *b);
/* Writes the decimal form of v; returns the number of digits. */
unsigned pvf_utoa(uint64_t v, char *buf, unsigned len);
/* Parses an unsigned decimal; 0 or -XEN_EINVAL. */
int pvf_parse_u64(const char *s, uint64_t *v);

/* Reads "<dir>/<key>" as an unsigned decimal; `def` when absent. */
uint64_t pvf_read_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                      const char *key, uint64_t def);
/* Reads "<dir>/<key>" as an unsigned decimal; 0 or -errno. */
int pvf_get_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                const char *key, uint64_t *v);
/* Writes "<dir>/<key>" = decimal v. */
int pvf_write_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                  const char *key, uint64_t v);
/* Writes "<dir>/<key>" = s. */
int pvf_write_str(const struct pvf_os *os, uint32_t tx, const char *dir,
                  const char *key, const char *s);
/* Reads "<dir>/state"; XenbusStateUnknown if absent. */
int pvf_read_state(const struct pvf_os *os, const char *dir);
/* Writes "<dir>/state" in a transaction, retrying on conflicts. */
int pvf_switch_state(const struct pvf_os *os, const char *dir, int state);
/*
 * Waits until the state at "<dir>/state" satisfies lo <= state <= hi, or
 * the state is at or beyond `fail_from` (if non-zero).  Returns the state,
 * or -XEN_ETIMEDOUT after `ms`.  Contract: "<dir>/state" is being watched.
 */
int pvf_wait_state(const struct pvf_os *os, const char *dir, int lo, int hi,
                   int fail_from, unsigned ms);

/*
 * The start of a frontend's init: copies node into node_buf, reads
 * "<node>/backend" into backend_buf and "<node>/backend-id" into *backend_id.
 * 0, or pvf_join's error for a node too long for node_buf, -XEN_ENOENT
 * without a backend path, -XEN_EINVAL for a missing or reserved backend id.
 */
int pvf_frontend_backend(const struct pvf_os *os, const char *node, char *node_buf,
                         unsigned node_len, char *backend_buf, unsigned backend_len,
                         domid_t *backend_id);
/*
 * Runs body(arg, tx) in a store transaction, retrying the whole transaction
 * (up to 100 times) while its end reports a conflict (-XEN_EAGAIN); a body
 * that fails aborts it.  Returns the body's error, the end's result, or
 * -XEN_EAGAIN if every try conflicted.
 */
int pvf_transact(const struct pvf_os *os, int (*body)(void *arg, uint32_t tx),
                 void *arg);
/*
 * Builds the directory of queue i out of nr under node: node itself when
 * nr == 1, else "<node>/queue-<i>".  0 or -XEN_E2BIG.
 */
int pvf_queue_dir(char *buf, unsigned len, const char *node, unsigned i,
                  unsigned nr);
/*
 * The frontend's opening handshake: watches "<backend>/state", moves
 * "<node>/state" to Initialising (unless it is there) and waits up to `ms`
 * for the backend's InitWait.  0, or -errno (-XEN_EIO if the backend went
 * to another state).  Contract: the watch stays until pvf_unwatch_state.
 */
int pvf_open_handshake(const struct pvf_os *os, const char *node,
                       const char *backend, unsigned ms);
/*
 * The closing handshake: node Closing, wait up to `ms` for the backend's
 * Closing or Closed, node Closed, then (if that wait did not fail) wait for
 * the backend's Closed.  Returns the last wait's result (a state or -errno).
 */
int pvf_close_handshake(const struct pvf_os *os, const char *node,
                        const char *backend, unsigned ms);
/* Drops the watch on "<dir>/state" that pvf_open_handshake set. */
void pvf_unwatch_state(const struct pvf_os *os, const char *dir);

#endif
