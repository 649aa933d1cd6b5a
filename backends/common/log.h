/*
 * log.h - one-line logging for the pvkit daemons, prefixed by component
 * ("(pvkit-blkback)").  Errors always print; debug lines only when the
 * PVKIT_DEBUG environment variable is set, so daemons are quiet by default.
 * Guest-triggered messages go through pvk_log_guest, which is rate-limited.
 */
#ifndef PVK_LOG_H
#define PVK_LOG_H

#include <stdarg.h>

/* Sets the component name printed before every line (static string). */
void pvk_log_init(const char *component);
/* Prints an error line to stderr. */
void pvk_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an informational line to stderr. */
void pvk_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints only when PVKIT_DEBUG is set. */
void pvk_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a guest-caused complaint, at most a few per second per process. */
void pvk_log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
