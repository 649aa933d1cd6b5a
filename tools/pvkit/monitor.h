/*
 * monitor: what xl's per-domain daemon does after `xl create`: wait for
 * the domain to shut down and carry out its configuration's on_poweroff,
 * on_reboot or on_crash action (destroy; restart: destroy and build again
 * from the same configuration under the same name, with the devices the
 * domain had when it shut down, hot-plugged ones included and detached
 * ones left out, as libxl does; preserve: leave it).
 *
 * The monitor is a process of its own (detached, its own session), logging
 * to /var/log/pvkit/NAME.log. It learns of a shutdown by polling
 * getdomaininfo every MONITOR_POLL_MS: Linux lets one process bind
 * VIRQ_DOM_EXC (xenstore-lite holds it), and a @releaseDomain watch needs
 * libxenstore's watch thread, which fails in a static binary (EINVAL then
 * EBADF, as found for xs-domu-e2e); xenstore-lite fires @releaseDomain on
 * death and release, not on a shutdown the monitor must act on. It exits when its domain is gone (destroyed by
 * `pvkit destroy`) or preserved.
 *
 * Its pid is recorded in the store (/libxl/N/pvkit/monitor) for `pvkit
 * destroy`, which stops it first (monitor_stop) so that a destroy never
 * races a restart: on SIGTERM the monitor finishes what it is doing (a
 * restart completes, recording the new domain) and exits.
 */
#ifndef PVKIT_MONITOR_H
#define PVKIT_MONITOR_H

#include <stdint.h>
#include <sys/types.h>

#include "domcfg.h"

#define MONITOR_POLL_MS 200
#define MONITOR_LOG_DIR "/var/log/pvkit"

/*
 * Starts the monitor of DOMID, built from DC (read from CONFIG). Returns
 * in the caller at once with the monitor's pid, or -errno if it could not
 * be started (the domain then runs unmonitored; the caller warns).
 */
pid_t monitor_start(const struct domcfg *dc, const char *config, uint32_t domid);

/*
 * Stops the monitor of DOMID recorded in the store, if it is still a
 * pvkit process: SIGTERM, then waits up to a second for it to exit.
 */
struct xs_handle;
void monitor_stop(struct xs_handle *xs, uint32_t domid);

/* What the monitor does when its domain shut down for REASON (SHUTDOWN_*). */
enum domcfg_action monitor_action(const struct domcfg *dc, unsigned reason);

#endif
