/*
 * perms: node permission lists, as XenStore defines them.
 *
 * A list has at least one entry. Entry 0 names the owner and gives the
 * access of every domain not listed later; later entries grant a domain
 * exactly their bits. Bits are XS_PERM_READ / XS_PERM_WRITE from
 * xenstore_lib.h; domids are 0..65535.
 */
#ifndef XSL_PERMS_H
#define XSL_PERMS_H

#include <stdbool.h>
#include <stddef.h>
#include <xenstore_lib.h>

#define DOMID_LIMIT 65536u

struct perms {
	struct xs_permissions *p;
	unsigned n;
};

/* Who is asking: a domain, maybe privileged, maybe targeting another. */
struct principal {
	unsigned domid;
	int target;		/* domid this one acts for, or -1 */
	bool privileged;
};

/* Parse n NUL-terminated perm strings ("r5", "b0", ...) starting at s.
 * Returns 0 and fills out (caller frees out->p) or -EINVAL / -ENOMEM. */
int perms_parse(const char *s, unsigned n, struct perms *out);
/* Format perms as NUL-separated strings into buf (size cap).
 * Returns the length used, or -E2BIG if it does not fit. */
int perms_format(const struct perms *pm, char *buf, size_t cap);
/* Deep copy; returns 0 or -ENOMEM. */
int perms_dup(const struct perms *src, struct perms *dst);
/* Access bits (XS_PERM_READ|XS_PERM_WRITE, plus XS_PERM_OWNER for owners)
 * that who has on a node with permissions pm. */
unsigned perms_access(const struct perms *pm, const struct principal *who);
/* Owner of a permission list. */
static inline unsigned perms_owner(const struct perms *pm)
{
	return pm->p[0].id;
}

#endif
