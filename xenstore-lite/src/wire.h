/*
 * wire: includes xen/io/xs_wire.h (Debian libxen-dev) with the headers it
 * assumes. xs_wire.h defines its xsd_errors table only when errno's names
 * are visible, so <errno.h> must come first.
 */
#ifndef XSL_WIRE_H
#define XSL_WIRE_H

#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#endif
