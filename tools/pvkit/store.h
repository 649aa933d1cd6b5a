/*
 * store: the toolstack's side of XenStore, through Debian's libxenstore
 * (xs_open on /run/xenstored/socket, xenstore-lite in pvkit's dom0).
 *
 * A new domain's tree is written as libxl writes it (libxl_create.c's
 * libxl__domain_make and libxl_dom.c's libxl__build_post, libxl_console.c
 * for the primary console), in one transaction:
 *   /local/domain/N              owner 0, domain N may read (roperm)
 *     vm, name, domid, cpu/I/availability, memory/{static-max,target,
 *     videoram}, store/{port,ring-ref}, control/platform-feature-*,
 *     device/, cpu/, memory/, control/  (roperm)
 *     control/{shutdown,feature-poweroff,feature-reboot,feature-suspend,
 *     sysrq}, device/suspend/event-channel, data, drivers, feature, attr,
 *     error                      owned by N (rwperm: N writes, others none)
 *     console/                   the frontend: owned by N, dom0 reads;
 *       backend, backend-id, limit, type "xenconsoled", output "pty",
 *       tty, port, ring-ref (the console page's mfn, as for PV in libxl)
 *   /local/domain/0/backend/console/N/0   the backend (owner 0, N reads)
 *   /vm/UUID                     uuid, name, start_time (roperm)
 *   /libxl/N                     owner 0 only: type "pv", and pvkit's
 *     record of the config (pvkit/{config,kernel,ramdisk,cmdline,
 *     on_poweroff,on_reboot,on_crash}) for `list -l` and restarts
 * and is then introduced to the store daemon (XS_INTRODUCE with the store
 * page's mfn and the unbound port), which fires @introduceDomain.
 *
 * Functions return 0 or -errno; none exits.
 */
#ifndef PVKIT_STORE_H
#define PVKIT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "dominfo.h"

struct xs_handle;

/* Connects to the store daemon. NULL with errno set if it cannot. */
struct xs_handle *store_open(void);
void store_close(struct xs_handle *xs);

/* Fills the names of L's domains: /local/domain/N/name, "Domain-0" for 0
 * if unset, else "(null)" as xl shows a domain without one. */
void store_fill_names(struct xs_handle *xs, struct dominfo_list *l);

/* The id of a domain in L named NAME, if any: true and *DOMID. */
bool store_name_in_use(const struct dominfo_list *l, const char *name, uint32_t *domid);

/* What store_write_domain writes. */
struct store_domain {
    uint32_t domid;
    const char *name;
    const char *uuid;               /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
    uint64_t target_kb, max_kb;
    uint32_t vcpus, max_vcpus;      /* vCPUs 0..vcpus-1 online, the rest offline */
    uint64_t store_mfn, console_mfn;
    uint32_t store_port, console_port;
    const char *config;             /* the file it was created from (recorded) */
    const char *kernel, *ramdisk, *cmdline;
    const char *on_poweroff, *on_reboot, *on_crash;
};

/* One transaction's writes: the first failure is kept in rc (-errno) and
 * later calls do nothing; paths are printf formats. */
struct store_tx {
    struct xs_handle *xs;
    uint32_t t;                     /* xs_transaction_t */
    int rc;
};
struct xs_permissions;
void store_tx_write(struct store_tx *x, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Creates the node (empty) with PERMS, as libxl__xs_mknod. */
void store_tx_mknod(struct store_tx *x, struct xs_permissions *perms, unsigned nr,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Removes PATH and what is below it; absent is not an error. */
void store_tx_rm(struct store_tx *x, const char *path);
/* Runs FILL in a transaction, again from the start while the store answers
 * EAGAIN (up to 20 times); 0 once committed, or FILL's or the store's -errno. */
int store_transact(struct xs_handle *xs, void (*fill)(struct store_tx *x, void *arg), void *arg);

/* Writes D's tree (above) in one transaction, retried on EAGAIN. */
int store_write_domain(struct xs_handle *xs, const struct store_domain *d);

/* XS_INTRODUCE of DOMID with its store page and port. */
int store_introduce(struct xs_handle *xs, uint32_t domid, uint64_t mfn, uint32_t port);

/*
 * Removes everything the toolstack put in the store for DOMID: XS_RELEASE
 * (if it was introduced: @releaseDomain fires), /local/domain/N, its /vm
 * entry, /libxl/N and its console backend. Best effort: missing parts are
 * not errors.
 */
void store_remove_domain(struct xs_handle *xs, uint32_t domid);

/* Writes control/shutdown = REQUEST ("poweroff", "reboot"), as xl does. */
int store_request_shutdown(struct xs_handle *xs, uint32_t domid, const char *request);

/* Writes memory/target (KiB), as xl mem-set does. */
int store_set_target(struct xs_handle *xs, uint32_t domid, uint64_t kb);

/* /vm/UUID/start_time of DOMID, in seconds since the epoch. -ENOENT if none. */
int store_start_time(struct xs_handle *xs, uint32_t domid, double *t);

/* /libxl/N/pvkit/KEY, a fresh string, or NULL. */
char *store_record(struct xs_handle *xs, uint32_t domid, const char *key);

/* Writes /libxl/N/pvkit/KEY = VALUE (owner 0 only). */
int store_set_record(struct xs_handle *xs, uint32_t domid, const char *key, const char *value);

/* A fresh random UUID string (37 bytes with the NUL) into OUT. */
void store_new_uuid(char out[37]);

#endif
