/*
 * path: XenStore path rules (xenstore.txt "Paths"). Relative paths are
 * resolved against the connection's home /local/domain/<domid>; the length
 * limits of xs_wire.h apply to the text the client sent (relative limit) and
 * to the resolved path (absolute limit). Nothing here allocates.
 */
#include "path.h"

#include <errno.h>
#include <string.h>
#include "wire.h"

/* True for the characters xenstore.txt allows in a path. */
static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '/' || c == '_' ||
	       c == '@';
}

/* Check an absolute candidate: charset, no "//", no trailing '/'. */
static int path_check_abs(const char *p)
{
	size_t i, len = strlen(p);

	if (len == 0 || p[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!path_char_ok(p[i]))
			return -EINVAL;
		if (p[i] == '/' && (p[i + 1] == '/' || (p[i + 1] == '\0' && i > 0)))
			return -EINVAL;
	}
	return 0;
}

/* Check a special path: '@' followed by allowed characters. */
static int path_check_special(const char *p)
{
	size_t i, len = strlen(p);

	if (len < 2 || len > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	for (i = 1; i < len; i++)
		if (!path_char_ok(p[i]))
			return -EINVAL;
	return 0;
}

int path_canon(const char *home, const char *in, bool allow_special, char *out)
{
	size_t hl, il = strlen(in);

	if (in[0] == '@') {
		if (!allow_special || path_check_special(in))
			return -EINVAL;
		memcpy(out, in, il + 1);
		return 0;
	}
	if (in[0] == '/') {
		if (path_check_abs(in))
			return -EINVAL;
		memcpy(out, in, il + 1);
		return 0;
	}
	hl = strlen(home);
	if (il == 0 || il > XENSTORE_REL_PATH_MAX || hl + 1 + il >= PATH_BUF)
		return -EINVAL;
	memcpy(out, home, hl);
	out[hl] = '/';
	memcpy(out + hl + 1, in, il + 1);
	return path_check_abs(out);
}

bool path_is_child(const char *parent, const char *child)
{
	size_t pl = strlen(parent);

	if (pl == 1 && parent[0] == '/')
		return child[0] == '/';
	return strncmp(parent, child, pl) == 0 &&
	       (child[pl] == '\0' || child[pl] == '/');
}

const char *path_base(const char *p)
{
	return strrchr(p, '/') + 1;
}

void path_parent(const char *p, char *out)
{
	size_t n = (size_t)(strrchr(p, '/') - p);

	if (n == 0)
		n = 1;
	memmove(out, p, n);	/* out may be p itself */
	out[n] = '\0';
}

int path_join(const char *parent, const char *leaf, char *out)
{
	size_t pl = strlen(parent), ll = strlen(leaf);

	if (pl == 1)
		pl = 0;
	if (pl + 1 + ll > XENSTORE_ABS_PATH_MAX)
		return -EINVAL;
	memcpy(out, parent, pl);
	out[pl] = '/';
	memcpy(out + pl + 1, leaf, ll + 1);
	return 0;
}

unsigned path_depth(const char *p)
{
	unsigned d = 0;

	if (p[1] == '\0')
		return 0;
	for (; *p; p++)
		d += *p == '/';
	return d;
}
