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
 * removed anyway (a dead frontend cannot answer; xl's -f does the same).
 *
 * Functions return 0 or -errno; none exits.
 */
#ifndef PVKIT_DEVICES_H
#define PVKIT_DEVICES_H

#include <stdint.h>

#include "domcfg.h"

struct xs_handle;

#define DEVICES_DEFAULT_BRIDGE "xenbr0"

/* The number xl gives VDEV (xvdX, hdX, sdX, with a partition number), or -EINVAL. */
long devices_vdev_number(const char *vdev);

/* Adds disk D to domain DOMID; -EEXIST if its vdev is taken. */
int devices_add_disk(struct xs_handle *xs, uint32_t domid, const struct domcfg_disk *d);

/* Adds V as interface DEVID of DOMID; a MAC is chosen (00:16:3e:xx:xx:xx)
 * and written back into V if it has none; -EEXIST if DEVID is taken. */
int devices_add_vif(struct xs_handle *xs, uint32_t domid, unsigned devid, struct domcfg_vif *v);

/* The smallest vif id DOMID does not use yet. */
unsigned devices_free_vif_id(struct xs_handle *xs, uint32_t domid);

/* Detaches device KIND ("vbd", "vif") ID of DOMID, waiting up to TIMEOUT_MS
 * for the backend to close (see above); -ENOENT if there is none. */
int devices_remove(struct xs_handle *xs, uint32_t domid, const char *kind, unsigned id,
                   unsigned timeout_ms);

/* Removes every device node of DOMID, frontends and backends, without
 * waiting (the domain is gone; its backends let go when the nodes do). */
void devices_remove_all(struct xs_handle *xs, uint32_t domid);

#endif
