/*
 * hyp: what the store needs from the hypervisor, as a table of operations,
 * so that the domain code (domain.c) is the same in the daemon (xen.c
 * implements the table with Debian's libxengnttab, libxenforeignmemory,
 * libxenevtchn and libxencall) and in the hosted unit tests (a fake).
 *
 * Invariants: a page obtained from map is given back to unmap exactly once,
 * with the kind map set; a port returned by bind is given back to unbind
 * exactly once; notify and unbind are only called with such a port. When
 * struct xsd has no table (a hosted daemon, no hypervisor), INTRODUCE only
 * records the domain.
 */
#ifndef XSL_HYP_H
#define XSL_HYP_H

#include <stdint.h>
#include "wire.h"

/* How a store page was mapped (map sets it, unmap needs it back). */
enum hyp_map_kind {
	HYP_MAP_XENFS,		/* dom0's own page, /proc/xen/xsd_kva */
	HYP_MAP_GRANT,		/* grant reference GNTTAB_RESERVED_XENSTORE */
	HYP_MAP_FOREIGN,	/* a privileged foreign mapping of the mfn */
};

struct hyp_page {
	struct xenstore_domain_interface *intf;
	enum hyp_map_kind kind;
};

struct hyp_ops {
	/* Map domid's store page writable into *pg: for domain 0 the page its
	 * kernel exposes through xenfs; for another domain its grant
	 * reference 1, else a foreign mapping of mfn. 0 or -errno. */
	int (*map)(void *ctx, unsigned domid, unsigned long mfn, struct hyp_page *pg);
	/* Undo map. */
	void (*unmap)(void *ctx, unsigned domid, const struct hyp_page *pg);
	/* Bind a local port to (domid, remote), an unbound port of domid
	 * whose remote is us. The local port (> 0), or -errno. */
	long (*bind)(void *ctx, unsigned domid, unsigned remote);
	/* Close a local port that bind returned. */
	void (*unbind)(void *ctx, unsigned local);
	/* Signal a local port that bind returned. */
	void (*notify)(void *ctx, unsigned local);
	/* XEN_DOMCTL_getdomaininfo of domid: 0 with *flags set (XEN_DOMINF_*),
	 * -ESRCH if no such domain exists any more, another -errno if the
	 * hypervisor could not be asked. */
	int (*info)(void *ctx, unsigned domid, uint32_t *flags);
};

struct hyp {
	const struct hyp_ops *ops;
	void *ctx;
};

#endif
