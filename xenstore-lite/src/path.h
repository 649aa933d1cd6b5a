/*
 * path: validation and canonicalisation of XenStore paths.
 *
 * A canonical path is absolute, starts with '/', uses only the characters
 * xenstore.txt permits (alphanumerics and -/_@), has no empty component and
 * no trailing '/' (except the root "/"), and is at most
 * XENSTORE_ABS_PATH_MAX bytes. Special watch paths start with '@'.
 */
#ifndef XSL_PATH_H
#define XSL_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Buffer size that holds any canonical path plus its NUL. */
#define PATH_BUF 3100

/* Canonicalise in (relative to home when it does not start with '/') into
 * out[PATH_BUF]. Special '@' paths are accepted only if allow_special.
 * Returns 0, or -EINVAL for a malformed or too long path. */
int path_canon(const char *home, const char *in, bool allow_special, char *out);
/* True if child equals parent or lies below it (component-wise). */
bool path_is_child(const char *parent, const char *child);
/* Last component of a canonical non-root path (pointer into p). */
const char *path_base(const char *p);
/* Write the parent of canonical non-root p into out[PATH_BUF] (out may
 * be p). */
void path_parent(const char *p, char *out);
/* Join canonical parent and a child leaf name into out[PATH_BUF].
 * Returns 0 or -EINVAL if the result would be too long. */
int path_join(const char *parent, const char *leaf, char *out);
/* Number of components ("/" has 0). */
unsigned path_depth(const char *p);

#endif
