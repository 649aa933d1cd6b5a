/*
 * cons: pvkit-consoled's logic that needs no hypervisor, kept apart so it
 * is unit-tested on the host: the backend's side of a domU console ring
 * (xen/io/console.h) -- it consumes `out` (what the guest prints) and
 * produces into `in` (what is typed to it) -- and the log file name a
 * domain's console gets.
 *
 * The page is shared with the guest, which may write anything into it at
 * any time: every index is read once per call, only ever used masked into
 * the arrays, and a producer more than a ring ahead of its consumer (or
 * behind it) is resynchronised instead of trusted. Nothing here allocates
 * or blocks, so a hostile guest costs at most one ring's worth of copying
 * per call.
 */
#ifndef PVKIT_CONS_H
#define PVKIT_CONS_H

#include <stddef.h>
#include <stdint.h>
#include <xen/io/console.h>

/*
 * Moves up to n bytes the guest produced in `out` to dst and advances
 * out_cons past them. A producer more than sizeof(out) ahead (bogus)
 * leaves only the newest ring-full to read. Returns the bytes copied.
 */
size_t cons_take(struct xencons_interface *ring, char *dst, size_t n);

/*
 * Appends up to n bytes of src to `in`, as far as the guest has made room,
 * and advances in_prod. Returns the bytes written (0 when the ring is full
 * or its indices are bogus).
 */
size_t cons_put(struct xencons_interface *ring, const char *src, size_t n);

/*
 * The log file name (without directory) for domain domid called name:
 * name's letters, digits, '.', '_' and '-' (anything else becomes '_'; a
 * leading '.' too, so no name is "." or ".." or hidden), then ".log". A
 * domU may be able to choose its name: it never names a path. An empty
 * name gives "d<domid>.log". out holds at least CONS_LOG_NAME_MAX bytes.
 */
#define CONS_LOG_NAME_MAX 80
void cons_log_name(const char *name, uint32_t domid, char *out);

#endif
