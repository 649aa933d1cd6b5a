/*
 * The console daemon's rendezvous (backends/consoled/consoled.c) and its client
 * (console_attach.c, behind `pvkit console`): where the daemon listens and
 * logs, and how a terminal is attached to a domain's console.
 *
 * Protocol on the unix socket: the client sends "ATTACH <domid>\n"; the
 * daemon answers "OK <name>\n" or "ERR <why>\n"; after OK the connection
 * carries the console's raw bytes both ways until either side closes it.
 */
#ifndef PVKIT_CONSOLED_H
#define PVKIT_CONSOLED_H

#include <stdint.h>

#define CONSOLED_SOCKET  "/run/pvkit/consoled.sock"
#define CONSOLED_LOG_DIR "/var/log/pvkit/console"
#define CONSOLE_DETACH   0x1d   /* Ctrl-], as xl console */

/*
 * Attaches the terminal (stdin/stdout) to domain domid's console through
 * the daemon at socket_path until Ctrl-] is typed, stdin ends, or the
 * domain's console goes away. A terminal is put in raw mode and restored.
 * Returns 0, or -errno with one line already printed ("pvkit: ...").
 */
int console_attach(const char *socket_path, uint32_t domid);

#endif
