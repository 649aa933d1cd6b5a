/*
 * control: the XS_CONTROL commands xenstore-lite understands.
 *
 *   help                      list the commands
 *   check                     verify the tree's invariants
 *   log <0..3>                set the log level
 *   quota                     list the global quotas
 *   quota <name> <value>      set a global quota
 *   quota <domid>             list a domain's effective quotas and usage
 *   memreport                 node count and data bytes
 *   print <text>              write text to the log
 *
 * Output is one NUL-free string that always fits XENSTORE_PAYLOAD_MAX.
 */
#ifndef XSL_CONTROL_H
#define XSL_CONTROL_H

#include <stddef.h>
#include "xsd.h"

/* Run argv[0] with its arguments, writing the reply text into out (cap
 * bytes). 0, or -EINVAL for unknown commands or bad arguments, -EIO for a
 * failed check, -ENOENT for an unknown domain. */
int control_run(struct xsd *d, const char **argv, unsigned argc, char *out, size_t cap);

#endif
