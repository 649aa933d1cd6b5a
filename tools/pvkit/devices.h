/*
 * devices: a domain's virtual disks (vbd) and network interfaces (vif) in
 * XenStore, added and removed the way libxl does (libxl_disk.c,
 * libxl_nic.c, libxl_device.c), for the backends in dom0 (pvkit-blkback,
 * pvkit-netback; backends/README.md has the keys they read).
 *
 * A device is a pair of nodes written in one transaction:
 *   /local/domain/N/device/<kind>/<id>        the frontend: owned by N, dom0
 *       reads; backend, backend-id, state 1, and per kind
 *       vbd: virtual-device, device-type    vif: handle, mac
 *   /local/domain/0/backend/<kind>/N/<id>     the backend: owned by dom0, N
 *       reads; frontend, frontend-id, online 1, state 1, and per kind
 *       vbd: params (the file or block device), mode (w or r), dev (vdev),
 *            type, device-type, removable, bootable, discard-enable
 *       vif: mac, bridge, handle, type "vif", script (pvkit-netback joins
 *            the tap to `bridge` itself and writes hotplug-status, so the
 *            script is recorded for xl compatibility but never run)
 * A vbd's id is its vdev's number as xl computes it (xvda = 51712); a vif's
 * is its index in the config (its handle).
 *
 * Removal (detach) is libxl's: the backend is told online = 0 and state 5
 * (Closing); the frontend follows to Closed and so does the backend; then
 * both nodes are removed. A backend that does not reach Closed in time is
 * removed anyway (a dead frontend cannot answer; libxl falls back to a
 * forced removal the same way). A forced removal (xl's -f) removes both
 * nodes at once without asking; the backend tears the device down when
 * its node goes.
 *
 * The backend daemons: dom0's init (tools/mkdom0) starts one
 * pvkit-blkback and one pvkit-netback serving every domain and records
 * each one's pid in DEVICES_RUN_DIR/blkback.pid and netback.pid. A
 * backend is running when its pid file names a live process called
 * pvkit-blkback or pvkit-netback; the toolstack refuses a device whose
 * backend is not (nobody would ever connect it).
 *
 * Functions return 0 or -errno; none exits.
 */
#ifndef PVKIT_DEVICES_H
#define PVKIT_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "domcfg.h"

struct xs_handle;

#define DEVICES_DEFAULT_BRIDGE "xenbr0"
#define DEVICES_RUN_DIR "/run/pvkit"
#define DEVICES_DETACH_TIMEOUT_MS 10000 /* libxl's LIBXL_DESTROY_TIMEOUT */

/* What block-list and network-list show of one device (-1: no such key). */
struct devices_info {
    unsigned id;            /* vdev number (vbd) or handle (vif) */
    int fe_state;           /* the frontend's XenbusState */
    long evtch;             /* the frontend's event-channel (queue-0's if multi-queue) */
    long rref, rref_rx;     /* vbd: ring-ref; vif: tx-ring-ref, rx-ring-ref */
    char be_path[96];
    char mac[18];           /* vif only */
};

/* The daemon serving device KIND ("vbd", "vif"): "pvkit-blkback", "pvkit-netback". */
const char *devices_backend_name(const char *kind);

/*
 * Whether the daemon serving KIND runs (see above): 0 and its pid in *PID;
 * -ENOENT if it recorded no pid (never started); -ESRCH if the recorded
 * process is gone (it died), with that pid in *PID.
 */
int devices_backend_pid(const char *kind, pid_t *pid);

/* The devices KIND of DOMID, by id, into a fresh array *OUT of *NR. 0 or -ENOMEM. */
int devices_list(struct xs_handle *xs, uint32_t domid, const char *kind,
                 struct devices_info **out, size_t *nr);

/* The id of DOMID's vif whose MAC is MAC (either case): 0, or -ENOENT. */
int devices_vif_by_mac(struct xs_handle *xs, uint32_t domid, const char *mac, unsigned *id);

/* The number xl gives VDEV (xvdX, hdX, sdX, with a partition number), or -EINVAL. */
long devices_vdev_number(const char *vdev);

/*
 * Whether D's image can back a disk: 0, or -errno with "PATH: why" in
 * WHY[LEN] (cannot be opened as D asks: read-write, or read-only; neither
 * a regular file nor a block device: -EINVAL).
 */
int devices_check_target(const struct domcfg_disk *d, char *why, size_t len);

/* Adds disk D to domain DOMID; -EEXIST if its vdev is taken, -ENOSPC if
 * DOMID has DOMCFG_MAX_DISKS disks already. */
int devices_add_disk(struct xs_handle *xs, uint32_t domid, const struct domcfg_disk *d);

/* Adds V as interface DEVID of DOMID; a MAC is chosen (00:16:3e:xx:xx:xx)
 * and written back into V if it has none; -EEXIST if DEVID is taken,
 * -ENOSPC if DOMID has DOMCFG_MAX_VIFS interfaces already. */
int devices_add_vif(struct xs_handle *xs, uint32_t domid, unsigned devid, struct domcfg_vif *v);

/* The smallest vif id DOMID does not use yet. */
unsigned devices_free_vif_id(struct xs_handle *xs, uint32_t domid);

/* Detaches device KIND ("vbd", "vif") ID of DOMID, waiting up to TIMEOUT_MS
 * for the backend to close (see above; 0: removes the nodes at once without
 * asking, libxl's forced removal). 0; -ENOENT if there is
 * none; -ETIMEDOUT if the backend did not close in time (the nodes are
 * removed all the same). */
int devices_remove(struct xs_handle *xs, uint32_t domid, const char *kind, unsigned id,
                   unsigned timeout_ms);

/*
 * The disks and vifs DOMID has now (its backend nodes: what the config
 * file gave it and what was attached since, less what was detached), into
 * DC's disks and vifs, in id order, as the config file would give them;
 * DC's other members are not touched, its disks and vifs must be empty.
 * What a monitor restarts a domain with, as libxl keeps hot-plugged
 * devices across a reboot; a vbd node without params or dev, or a vif
 * node without mac (what a backend left writing to it after its removal),
 * is skipped. 0, or -errno
 * (-E2BIG: more than domcfg holds) with DC's devices freed.
 */
int devices_read_config(struct xs_handle *xs, uint32_t domid, struct domcfg *dc);

/* Removes every device node of DOMID, frontends and backends, without
 * waiting (the domain is gone; its backends let go when the nodes do). */
void devices_remove_all(struct xs_handle *xs, uint32_t domid);

#endif
