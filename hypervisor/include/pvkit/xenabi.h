/*
 * The Xen public ABI, from Debian's libxen-dev headers, as the hypervisor
 * sees it. The build fixes __XEN_INTERFACE_VERSION__ (see hypervisor.mk) so
 * the headers describe one ABI. Never copy definitions out of these headers.
 */
#ifndef PVKIT_XENABI_H
#define PVKIT_XENABI_H

#include <stdint.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/elfnote.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/memory.h>
#include <xen/event_channel.h>
#include <xen/callback.h>
#include <xen/physdev.h>
#include <xen/grant_table.h>
#include <xen/platform.h>

/*
 * xen/errno.h lists ERESTART (85) only for the hypervisor's own build
 * (__XEN__): it means "re-issue this operation" and never reaches a guest.
 * pvkit uses it the same way (page-table work out of budget).
 */
#ifndef XEN_ERESTART
#define XEN_ERESTART 85
#endif

#endif
