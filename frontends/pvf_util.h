/*
 * pvf_util.h - freestanding helpers shared by the frontend cores: bounded
 * string building, decimal conversion, typed store access on top of
 * struct pvf_os, and struct pvf_link, a device's place in the store.  No libc.  Every function that writes into a buffer is
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

/* A frontend device's place in the store, the same for every device class. */
struct pvf_link {
    const struct pvf_os *os;
    char node[128];         /* the device's own directory */
    char backend[128];      /* "<node>/backend": the backend's directory */
    domid_t backend_id;     /* "<node>/backend-id" */
};

/*
 * The start of a frontend's init: fills *link with os, node and the
 * backend's path and domain read from the store. 0, or pvf_join's error for
 * a node too long, -XEN_ENOENT without a backend path, -XEN_EINVAL for a
 * missing or reserved backend id.
 */
int pvf_link_init(struct pvf_link *link, const struct pvf_os *os, const char *node);
/*
 * Runs body(arg, tx) in a store transaction, retrying the whole transaction
 * (up to 100 times) while its end reports a conflict (-XEN_EAGAIN); a body
 * that fails aborts it.  Returns the body's error, the end's result, or
 * -XEN_EAGAIN if every try conflicted.
 */
int pvf_transact(const struct pvf_os *os, int (*body)(void *arg, uint32_t tx),
                 void *arg);
/*
 * Sets up a device's queues 0..nr-1 with alloc(dev, i); when one fails,
 * releases all max queues with release(dev, i) (which must be safe on a
 * queue never or partly set up) and returns its error. 0 when all are up.
 */
int pvf_queues_alloc(void *dev, unsigned nr, unsigned max, int (*alloc)(void *dev, unsigned i),
                     void (*release)(void *dev, unsigned i));
/* Releases all max queues of a device with release(dev, i). */
void pvf_queues_free(void *dev, unsigned max, void (*release)(void *dev, unsigned i));
/*
 * Publishes a device's nr queues in store transaction tx: first
 * "multi-queue-num-queues" = nr under link->node if mq_key, then the keys of
 * each queue i through one(dev, tx, dir, i), dir being link->node itself when
 * nr == 1, else "<node>/queue-<i>". 0, or the first error (-XEN_E2BIG for a
 * directory too long).
 */
int pvf_publish_queues(const struct pvf_link *link, uint32_t tx, unsigned nr, int mq_key,
                       int (*one)(void *dev, uint32_t tx, const char *dir, unsigned i),
                       void *dev);
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
