/*
 * The Xen public ABI as the test kernels see it: one place that includes
 * the headers from /usr/include/xen (libxen-dev) in a freestanding build.
 * __XEN_INTERFACE_VERSION__ is fixed by the build (guests.mk), so the
 * structs and constants are those of that interface version, never copies.
 */
#ifndef GUEST_XENABI_H
#define GUEST_XENABI_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/version.h>
#include <xen/sched.h>
#include <xen/features.h>
#include <xen/errno.h>

/* Where 64-bit PV guests find the read-only machine-to-phys table. */
#define GUEST_M2P ((const unsigned long *)MACH2PHYS_VIRT_START)

/* Virtual address of pseudo-physical page 0 (our XEN_ELFNOTE_VIRT_BASE). */
#define GUEST_VIRT_BASE 0xFFFFFFFF80000000UL

#endif
