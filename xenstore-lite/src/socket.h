/*
 * socket: the Unix-socket transport that libxenstore clients use.
 *
 * Every socket client is a dom0 (privileged) connection, as with xenstored's
 * socket. Runs on a libevent event_base.
 */
#ifndef XSL_SOCKET_H
#define XSL_SOCKET_H

#include <event2/event.h>
#include "xsd.h"

struct sock_server;

/* Listen on path. An existing socket file there is first connected to: if
 * a server answers, nothing is touched and NULL is returned with errno
 * EADDRINUSE; only a stale socket (connection refused: nobody listens) is
 * replaced; a file that is not a socket gives ENOTSOCK. Returns the server
 * or NULL with errno set. */
struct sock_server *sock_listen(struct xsd *d, struct event_base *base, const char *path);
/* Stop listening, close every client and unlink the socket file if it is
 * still the one sock_listen bound. */
void sock_shutdown(struct sock_server *s);

#endif
