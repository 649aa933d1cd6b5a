/*
 * socket: Unix-socket listener and per-client bufferevents (see socket.h).
 * Input is handed to conn_feed in contiguous chunks; what conn_feed does not
 * consume (input paused for unread replies) stays in the bufferevent, and
 * reading resumes from the write callback once the client has taken its
 * replies. Output is moved from the connection's queue into the bufferevent
 * while the bufferevent holds less than SOCK_OUT_HIGH bytes. A connection is
 * destroyed from a deferred callback, never inside its own request.
 */
#include "socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include "conn.h"

#define SOCK_OUT_HIGH (256 * 1024)
#define SOCK_READ_CHUNK (64 * 1024)

struct sock_server {
	struct xsd *d;
	struct event_base *base;
	struct evconnlistener *lis;
	char *path;
};

struct sock_client {
	struct sock_server *srv;
	struct bufferevent *bev;
	struct conn *c;
	struct event *reaper;
};

/* Move queued output into the bufferevent while it has room. */
static void sock_flush(struct sock_client *sc)
{
	struct evbuffer *out = bufferevent_get_output(sc->bev);
	const uint8_t *p;
	size_t len;

	while (evbuffer_get_length(out) < SOCK_OUT_HIGH &&
	       (p = conn_out_front(sc->c, &len))) {
		if (evbuffer_add(out, p, len))
			break;
		conn_out_advance(sc->c, len);
	}
}

/* Feed buffered input to the connection until it is consumed or paused. */
static void sock_feed(struct sock_client *sc)
{
	struct evbuffer *in = bufferevent_get_input(sc->bev);
	size_t len;

	while (!sc->c->closing && !conn_paused(sc->c) &&
	       (len = evbuffer_get_length(in)) > 0) {
		size_t n = len < SOCK_READ_CHUNK ? len : SOCK_READ_CHUNK;
		uint8_t *p = evbuffer_pullup(in, (ssize_t)n);
		long used = p ? conn_feed(sc->c, p, n) : -ENOMEM;

		if (used <= 0) {
			if (used < 0)
				conn_close(sc->c);
			break;
		}
		evbuffer_drain(in, (size_t)used);
	}
	if (sc->c->closing || conn_paused(sc->c))
		bufferevent_disable(sc->bev, EV_READ);
	sock_flush(sc);
}

static void sock_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	sock_feed(arg);
}

/* Output drained below the low watermark: send more, maybe read again. */
static void sock_write_cb(struct bufferevent *bev, void *arg)
{
	struct sock_client *sc = arg;

	sock_flush(sc);
	if (!sc->c->closing && !conn_paused(sc->c) &&
	    !(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		sock_feed(sc);
	}
}

static void sock_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sock_client *sc = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(sc->c);
}

/* Deferred destruction of a closing client. */
static void sock_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock_client *sc = arg;

	(void)fd; (void)what;
	conn_destroy(sc->c);
}

/* Transport hook: output was queued. */
static void sock_kick(struct conn *c)
{
	sock_flush(c->tp_data);
}

/* Transport hook: schedule destruction. */
static void sock_close(struct conn *c)
{
	struct sock_client *sc = c->tp_data;

	event_active(sc->reaper, EV_TIMEOUT, 0);
}

/* Transport hook: free the socket side. */
static void sock_destroy(struct conn *c)
{
	struct sock_client *sc = c->tp_data;

	bufferevent_free(sc->bev);
	event_free(sc->reaper);
	free(sc);
}

static const struct transport sock_transport = {
	.kick = sock_kick,
	.close = sock_close,
	.destroy = sock_destroy,
};

static void sock_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
			   struct sockaddr *sa, int salen, void *arg)
{
	struct sock_server *srv = arg;
	struct sock_client *sc = calloc(1, sizeof(*sc));

	(void)lis; (void)sa; (void)salen;
	if (sc) {
		sc->srv = srv;
		sc->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
		sc->reaper = event_new(srv->base, -1, 0, sock_reap_cb, sc);
	}
	if (!sc || !sc->bev || !sc->reaper ||
	    !(sc->c = conn_new(srv->d, 0, &sock_transport, sc))) {
		xsd_log(srv->d, LOG_ERR, "out of memory accepting a client");
		if (sc && sc->bev)
			bufferevent_free(sc->bev);
		else
			evutil_closesocket(fd);
		if (sc && sc->reaper)
			event_free(sc->reaper);
		free(sc);
		return;
	}
	bufferevent_setcb(sc->bev, sock_read_cb, sock_write_cb, sock_event_cb, sc);
	bufferevent_setwatermark(sc->bev, EV_WRITE, SOCK_OUT_HIGH / 2, 0);
	bufferevent_setwatermark(sc->bev, EV_READ, 0, SOCK_READ_CHUNK);
	bufferevent_enable(sc->bev, EV_READ | EV_WRITE);
}

struct sock_server *sock_listen(struct xsd *d, struct event_base *base, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sock_server *s;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->d = d;
	s->base = base;
	unlink(path);
	s->lis = evconnlistener_new_bind(base, sock_accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
					 (struct sockaddr *)&sun, sizeof(sun));
	if (!s->lis) {
		free(s->path);
		free(s);
		return NULL;
	}
	chmod(path, 0600);
	return s;
}

void sock_shutdown(struct sock_server *s)
{
	struct conn *c, *next;

	evconnlistener_free(s->lis);
	for (c = s->d->conns; c; c = next) {
		next = c->next;
		if (c->tp == &sock_transport)
			conn_destroy(c);
	}
	unlink(s->path);
	free(s->path);
	free(s);
}
