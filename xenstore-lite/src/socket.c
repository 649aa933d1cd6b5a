/*
 * socket: Unix-socket listener and clients (see socket.h), on plain libevent
 * events so that a request costs one read and one write system call.
 *
 * Each client has a small input buffer. Whatever conn_feed does not consume
 * (input paused for unread replies) stays there, reading stops, and it
 * resumes once output has drained. Output is written with writev straight
 * from the connection's queue: after a batch of input, from the write event
 * when the socket was full, and from a deferred "flush" event when another
 * connection's request queued watch events here. A connection is destroyed
 * from a deferred callback, never inside its own request.
 */
#include "socket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/listener.h>
#include "conn.h"

#define SOCK_INBUF (16 * 1024)
#define SOCK_IOV 64

struct sock_server {
	struct xsd *d;
	struct event_base *base;
	struct evconnlistener *lis;
	char *path;
	dev_t dev;	/* identity of the socket file we bound, so that */
	ino_t ino;	/* shutdown never unlinks somebody else's */
};

struct sock_client {
	struct conn *c;
	evutil_socket_t fd;
	struct event *rev, *wev, *flusher, *reaper;
	bool reading, feeding, flush_queued;
	size_t ioff, ilen;
	uint8_t in[SOCK_INBUF];
};

static void sock_feed(struct sock_client *sc);

/* Write as much queued output as the socket takes; arm the write event if
 * some is left. */
static void sock_flush(struct sock_client *sc)
{
	struct iovec v[SOCK_IOV];
	int n;

	while (!sc->c->closing && (n = conn_out_iov(sc->c, v, SOCK_IOV)) > 0) {
		ssize_t k = writev(sc->fd, v, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(sc->wev, NULL);
			return;
		}
		if (k < 0) {
			conn_close(sc->c);
			return;
		}
		conn_out_advance(sc->c, (size_t)k);
	}
	event_del(sc->wev);
	/* Output drained: a paused client may send again. */
	if (!sc->reading && !sc->c->closing && !conn_paused(sc->c)) {
		sc->reading = true;
		event_add(sc->rev, NULL);
		sock_feed(sc);
	}
}

/* Feed buffered input until it is consumed or input pauses, then flush. */
static void sock_feed(struct sock_client *sc)
{
	sc->feeding = true;
	while (sc->ioff < sc->ilen && !sc->c->closing && !conn_paused(sc->c)) {
		long used = conn_feed(sc->c, sc->in + sc->ioff, sc->ilen - sc->ioff);

		if (used < 0)
			conn_close(sc->c);
		if (used <= 0)
			break;
		sc->ioff += (size_t)used;
	}
	sc->feeding = false;
	if (sc->ioff == sc->ilen)
		sc->ioff = sc->ilen = 0;
	if (sc->reading && (sc->c->closing || conn_paused(sc->c))) {
		sc->reading = false;
		event_del(sc->rev);
	}
	sock_flush(sc);
}

/* Input is ready: read one buffer's worth and handle it. */
static void sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock_client *sc = arg;
	ssize_t n;

	(void)what;
	if (sc->ioff) {
		memmove(sc->in, sc->in + sc->ioff, sc->ilen - sc->ioff);
		sc->ilen -= sc->ioff;
		sc->ioff = 0;
	}
	n = read(fd, sc->in + sc->ilen, sizeof(sc->in) - sc->ilen);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(sc->c);
		return;
	}
	sc->ilen += (size_t)n;
	sock_feed(sc);
}

/* The socket has room again: continue writing. */
static void sock_write_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	sock_flush(arg);
}

/* Deferred flush requested by sock_kick. */
static void sock_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock_client *sc = arg;

	(void)fd; (void)what;
	sc->flush_queued = false;
	sock_flush(sc);
}

/* Deferred destruction requested by sock_close. */
static void sock_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sock_client *sc = arg;

	(void)fd; (void)what;
	conn_destroy(sc->c);
}

/* Transport hook: output was queued; flush it soon unless this client's
 * own input is being handled (sock_feed flushes then). */
static void sock_kick(struct conn *c)
{
	struct sock_client *sc = c->tp_data;

	if (!sc->feeding && !sc->flush_queued) {
		sc->flush_queued = true;
		event_active(sc->flusher, EV_TIMEOUT, 0);
	}
}

/* Transport hook: schedule destruction. */
static void sock_close(struct conn *c)
{
	struct sock_client *sc = c->tp_data;

	event_active(sc->reaper, EV_TIMEOUT, 0);
}

/* Free the client's events that exist (a half-built client lacks some). */
static void sock_client_events_free(struct sock_client *sc)
{
	struct event *evs[] = { sc->rev, sc->wev, sc->flusher, sc->reaper };

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
}

/* Transport hook: free the socket side. */
static void sock_destroy(struct conn *c)
{
	struct sock_client *sc = c->tp_data;

	sock_client_events_free(sc);
	evutil_closesocket(sc->fd);
	free(sc);
}

static const struct transport sock_transport = {
	.kick = sock_kick,
	.close = sock_close,
	.destroy = sock_destroy,
};

/* Free a half-built client (no connection yet). */
static void sock_client_free(struct sock_client *sc)
{
	sock_client_events_free(sc);
	free(sc);
}

static void sock_accept_cb(struct evconnlistener *lis, evutil_socket_t fd,
			   struct sockaddr *sa, int salen, void *arg)
{
	struct sock_server *srv = arg;
	struct sock_client *sc = calloc(1, sizeof(*sc));

	(void)lis; (void)sa; (void)salen;
	if (sc) {
		sc->fd = fd;
		sc->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, sock_read_cb, sc);
		sc->wev = event_new(srv->base, fd, EV_WRITE, sock_write_cb, sc);
		sc->flusher = event_new(srv->base, -1, 0, sock_flush_cb, sc);
		sc->reaper = event_new(srv->base, -1, 0, sock_reap_cb, sc);
	}
	if (!sc || !sc->rev || !sc->wev || !sc->flusher || !sc->reaper ||
	    !(sc->c = conn_new(srv->d, 0, &sock_transport, sc))) {
		xsd_log(srv->d, LOG_ERR, "out of memory accepting a client");
		if (sc)
			sock_client_free(sc);
		evutil_closesocket(fd);
		return;
	}
	sc->reading = true;
	event_add(sc->rev, NULL);
}

/* Decide whether an existing file at sun's path may be replaced. Returns 0
 * if nothing is there or it is a stale socket (a connect is refused:
 * nobody listens), which is then unlinked; otherwise -1 with errno:
 * EADDRINUSE when a server answers (or its backlog is full), ENOTSOCK when
 * the file is not a socket, or the error that made the probe fail. */
static int sock_take_over(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc, e;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		errno = EADDRINUSE;
		return -1;
	}
	if (e == ENOENT)	/* vanished meanwhile: nothing to take over */
		return 0;
	if (e != ECONNREFUSED) {
		errno = e;
		return -1;
	}
	return unlink(sun->sun_path) < 0 && errno != ENOENT ? -1 : 0;
}

struct sock_server *sock_listen(struct xsd *d, struct event_base *base, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sock_server *s;
	struct stat st;
	int e;

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
	if (sock_take_over(&sun) < 0)
		goto fail;
	s->lis = evconnlistener_new_bind(base, sock_accept_cb, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
					 (struct sockaddr *)&sun, sizeof(sun));
	if (!s->lis)
		goto fail;
	chmod(path, 0600);
	if (stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	return s;
fail:
	e = errno;
	free(s->path);
	free(s);
	errno = e;
	return NULL;
}

void sock_shutdown(struct sock_server *s)
{
	struct conn *c, *next;
	struct stat st;

	evconnlistener_free(s->lis);
	for (c = s->d->conns; c; c = next) {
		next = c->next;
		if (c->tp == &sock_transport)
			conn_destroy(c);
	}
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s);
}
