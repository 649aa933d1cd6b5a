/*
 * perms: parsing, formatting and evaluation of node ACLs. A privileged
 * principal (dom0) has every right; the owner, or a domain targeting the
 * owner (SET_TARGET), has every right; otherwise the first matching explicit
 * entry applies (for the domain itself or its target), else entry 0's bits.
 */
#include "perms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode one "<letter><domid>" string; returns 0 or -EINVAL. */
static int perm_parse_one(const char *s, struct xs_permissions *out)
{
	unsigned long id = 0;
	const char *d = s + 1;

	switch (s[0]) {
	case 'n': out->perms = XS_PERM_NONE; break;
	case 'r': out->perms = XS_PERM_READ; break;
	case 'w': out->perms = XS_PERM_WRITE; break;
	case 'b': out->perms = XS_PERM_READ | XS_PERM_WRITE; break;
	default: return -EINVAL;
	}
	if (*d == '\0' || strlen(d) > 5)
		return -EINVAL;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		id = id * 10 + (unsigned long)(*d - '0');
	}
	if (id >= DOMID_LIMIT)
		return -EINVAL;
	out->id = (unsigned)id;
	return 0;
}

int perms_parse(const char *s, unsigned n, struct perms *out)
{
	unsigned i;

	if (n == 0)
		return -EINVAL;
	out->p = calloc(n, sizeof(*out->p));
	if (!out->p)
		return -ENOMEM;
	out->n = n;
	for (i = 0; i < n; i++, s += strlen(s) + 1) {
		if (perm_parse_one(s, &out->p[i])) {
			free(out->p);
			out->p = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

int perms_format(const struct perms *pm, char *buf, size_t cap)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	size_t len = 0;
	unsigned i;

	for (i = 0; i < pm->n; i++) {
		int k = snprintf(buf + len, cap - len, "%c%u",
				 letter[pm->p[i].perms & 3], pm->p[i].id);

		if (k < 0 || (size_t)k + 1 > cap - len)
			return -E2BIG;
		len += (size_t)k + 1;
	}
	return (int)len;
}

int perms_dup(const struct perms *src, struct perms *dst)
{
	dst->p = malloc(src->n * sizeof(*dst->p));
	if (!dst->p)
		return -ENOMEM;
	memcpy(dst->p, src->p, src->n * sizeof(*dst->p));
	dst->n = src->n;
	return 0;
}

/* True if id is who's own domid or the domain who targets. */
static bool perm_is_self(const struct principal *who, unsigned id)
{
	return id == who->domid || (who->target >= 0 && id == (unsigned)who->target);
}

unsigned perms_access(const struct perms *pm, const struct principal *who)
{
	const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
	unsigned i;

	if (who->privileged || perm_is_self(who, pm->p[0].id))
		return all;
	for (i = 1; i < pm->n; i++)
		if (pm->p[i].id == who->domid)
			return pm->p[i].perms & (XS_PERM_READ | XS_PERM_WRITE);
	for (i = 1; i < pm->n; i++)
		if (perm_is_self(who, pm->p[i].id))
			return pm->p[i].perms & (XS_PERM_READ | XS_PERM_WRITE);
	return pm->p[0].perms & (XS_PERM_READ | XS_PERM_WRITE);
}
