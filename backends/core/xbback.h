/*
 * xbback.h - the xenbus-backend core that pvkit-blkback and pvkit-netback
 * are built on: the daemon (options --transport/--help, transport and store
 * set-up, signals, the main loop), device discovery under
 * backend/<type>/<fe>/<id>, the backend side of the xenbus state machine
 * (proto/xbstate.h), error reporting where xenbus_dev_fatal would put it,
 * and the queue threads' start, stop and failure signalling.  A device class
 * supplies only its protocol: a `struct xbb_class` of hooks and a device
 * struct that starts with `struct xbb_dev`.
 *
 * Threads: the main thread runs the store side and every hook; each
 * connected queue has its own thread (struct xbb_thread), which touches
 * only its own rings and tells the main thread about a broken ring through
 * xbb_dev_fail.  Invariants: queues run only while the device is Connected
 * (every path out of Connected calls the class's disconnect first); a
 * device exists while its backend node has a valid state.
 */
#ifndef PVK_XBBACK_H
#define PVK_XBBACK_H

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "common/cli.h"
#include "common/transport.h"

#define xbb_container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

struct xs_handle;
struct xbb_dev;

/* What a device class adds to the core; hooks run on the main thread. */
struct xbb_class {
    const char *type;           /* "vbd": watched backend/<type>, error/... */
    const char *noun;           /* "device": named when a queue drops it */
    size_t dev_size;            /* size of the class's device struct */
    /* Fresh device, before its frontend is read (optional). */
    void (*init)(struct xbb_dev *d);
    /* Reads the toolstack's keys, publishes features; 0, or -1 to refuse. */
    int (*probe)(struct xbb_dev *d);
    /* Starts every queue and publishes the connect-time keys; 0 or -1. */
    int (*connect)(struct xbb_dev *d);
    /* Stops and frees every queue; idempotent. */
    void (*disconnect)(struct xbb_dev *d);
    /* Just before state Closed (optional). */
    void (*closed)(struct xbb_dev *d);
    /* Releases what init and probe acquired, not d itself (optional). */
    void (*release)(struct xbb_dev *d);
    /* Error texts written for a refused probe, a failed connect, a drop. */
    const char *probe_error, *connect_error, *drop_error;
};

/* One daemon: its transport, store and devices. */
struct xbb_backend {
    const struct xbb_class *cls;
    struct pvk_transport *t;
    struct xs_handle *xs;
    char root[64];              /* /local/domain/<self>/backend/<type> */
    unsigned max_queues;        /* queues per device offered */
    int wake_fd;                /* eventfd: a queue wants main's attention */
    struct xbb_dev *devs;
};

/* The part of every device the core owns. */
struct xbb_dev {
    struct xbb_dev *next;
    struct xbb_backend *be;
    char path[128];             /* backend node */
    char fepath[128];           /* frontend node */
    domid_t fe_domid;
    unsigned id;                /* vbd: virtual device; vif: handle */
    int state;                  /* our xenbus state as last written */
    int probed;
    int watching;               /* the frontend's state is watched */
    atomic_int failed;          /* a queue found the rings corrupt */
};

/*
 * Runs the daemon: parses argv with cli (pvk_cli_parse, its options given
 * `be`; usage errors exit 2, --help exits 0),
 * opens the transport and store, serves backend/<be->cls->type> until
 * SIGINT or SIGTERM.  Returns the exit status: 0 after a signal, 1 if
 * set-up failed.  `be` holds the class and the option defaults.
 */
int xbb_main(struct xbb_backend *be, const struct pvk_cli *cli, int argc,
             char **argv);

/* multi-queue-num-queues of the frontend (1 if absent); 0 if out of range. */
unsigned xbb_num_queues(const struct xbb_dev *d);
/* Directory of queue i's keys: the frontend node, or its queue-<i>. */
void xbb_queue_dir(const struct xbb_dev *d, unsigned nq, unsigned i, char *buf,
                   size_t len);
/* Queue thread: marks d failed and wakes main, which drops d (any thread). */
void xbb_dev_fail(struct xbb_dev *d, unsigned queue, const char *why);

/* A queue's thread, the eventfd that stops it, and the queue's teardown. */
struct xbb_thread {
    pthread_t tid;
    int stop_fd;                /* -1 when closed */
    int running;
    void (*release)(void *arg); /* undoes the queue's setup (xbb_thread_run) */
    void *arg;
};
/* Creates the stop eventfd; 0, or -1 with stop_fd = -1. */
int xbb_thread_init(struct xbb_thread *th);
/*
 * Starts fn(arg) on its own thread when ready (the queue's setup
 * succeeded) and remembers release for xbb_thread_stop. 0; or -1 when not
 * ready or the thread cannot start, after release(arg) has undone the
 * setup (release must be safe on a partial setup).
 */
int xbb_thread_run(struct xbb_thread *th, int ready, void *(*fn)(void *),
                   void (*release)(void *), void *arg);
/* Signals stop_fd, joins, then runs the release given to xbb_thread_run;
 * nothing if the thread is not running. */
void xbb_thread_stop(struct xbb_thread *th);
/* Closes the stop eventfd (idempotent). */
void xbb_thread_fini(struct xbb_thread *th);

#endif
