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

/* Listen on path (an existing socket file there is replaced). Returns the
 * server or NULL with errno set. */
struct sock_server *sock_listen(struct xsd *d, struct event_base *base, const char *path);
/* Stop listening, close every client and unlink the socket file. */
void sock_shutdown(struct sock_server *s);

#endif
