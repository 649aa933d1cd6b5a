/*
 * xs: the libxenstore client API of Debian's <xenstore.h> and
 * <xenstore_lib.h>, implemented over the xs_wire.h protocol.
 *
 * A handle owns one connection (the daemon's Unix socket, or the xenbus
 * device as a fallback). Requests are serialised by req_lock; at most one is
 * in flight. Until the first watch-related call, the requesting thread reads
 * its own reply (fast path, no thread switch) and queues any watch events it
 * meets. From the first xs_watch / xs_read_watch / xs_fileno on, a reader
 * thread reads everything: replies are handed over through `reply`, events
 * are queued. Invariant: the watch pipe holds exactly one byte iff the event
 * queue is non-empty, so xs_fileno's fd is readable exactly when an event is
 * waiting. Every function sets errno on failure, as xenstore.h documents.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

struct xs_msg {
	struct xs_msg *next;
	struct xsd_sockmsg h;
	char *body;		/* h.len bytes plus a NUL */
};

struct xs_handle {
	int fd;
	/* Bytes read but not yet parsed. Only one thread reads at a time: the
	 * requester (holding req_lock) before the reader thread exists, the
	 * reader thread afterwards. */
	char rbuf[2 * (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)];
	size_t roff, rlen;
	pthread_mutex_t req_lock;	/* one request in flight */
	pthread_mutex_t lock;		/* protects everything below */
	pthread_cond_t cond;
	struct xs_msg *reply;
	struct xs_msg *wh, *wt;		/* queued watch events */
	int pipe[2];
	bool threaded;
	bool broken;			/* connection lost */
	bool filter;			/* XS_UNWATCH_FILTER */
	pthread_t thr;
};

const char *xs_daemon_rundir(void)
{
	const char *s = getenv("XENSTORED_RUNDIR");

	return s ? s : "/var/run/xenstored";
}

const char *xs_daemon_socket(void)
{
	static char buf[PATH_MAX];
	const char *s = getenv("XENSTORED_PATH");

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "%s/socket", xs_daemon_rundir());
	return buf;
}

const char *xs_daemon_socket_ro(void)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/socket_ro", xs_daemon_rundir());
	return buf;
}

bool xs_write_all(int fd, const void *data, unsigned int len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (unsigned)n;
	}
	return true;
}

/* Decode one "<letter><domid>" permission string. */
static bool perm_from_string(const char *s, struct xs_permissions *p)
{
	char *end;
	unsigned long id;

	switch (*s) {
	case 'n': p->perms = XS_PERM_NONE; break;
	case 'r': p->perms = XS_PERM_READ; break;
	case 'w': p->perms = XS_PERM_WRITE; break;
	case 'b': p->perms = XS_PERM_READ | XS_PERM_WRITE; break;
	default: errno = EINVAL; return false;
	}
	errno = 0;
	id = strtoul(s + 1, &end, 0);
	if (s[1] == '\0' || *end || errno || id > UINT_MAX) {
		errno = EINVAL;
		return false;
	}
	p->id = (unsigned)id;
	return true;
}

bool xs_strings_to_perms(struct xs_permissions *perms, unsigned int num,
			 const char *strings)
{
	unsigned i;

	for (i = 0; i < num; i++, strings += strlen(strings) + 1)
		if (!perm_from_string(strings, &perms[i]))
			return false;
	return true;
}

/* Make at least len unparsed bytes available in h->rbuf; false on EOF or
 * error. */
static bool fill(struct xs_handle *h, size_t len)
{
	if (h->rlen - h->roff >= len)
		return true;
	memmove(h->rbuf, h->rbuf + h->roff, h->rlen - h->roff);
	h->rlen -= h->roff;
	h->roff = 0;
	while (h->rlen < len) {
		ssize_t n = read(h->fd, h->rbuf + h->rlen, sizeof(h->rbuf) - h->rlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return false;
		}
		h->rlen += (size_t)n;
	}
	return true;
}

/* Read one message from the connection; NULL with errno on failure. */
static struct xs_msg *msg_read(struct xs_handle *h)
{
	struct xs_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (!fill(h, sizeof(m->h)))
		goto fail;
	memcpy(&m->h, h->rbuf + h->roff, sizeof(m->h));
	if (m->h.len > XENSTORE_PAYLOAD_MAX) {
		errno = EBADMSG;
		goto fail;
	}
	m->body = malloc(m->h.len + 1);
	if (!m->body || !fill(h, sizeof(m->h) + m->h.len))
		goto fail;
	memcpy(m->body, h->rbuf + h->roff + sizeof(m->h), m->h.len);
	m->body[m->h.len] = '\0';
	h->roff += sizeof(m->h) + m->h.len;
	return m;
fail:
	free(m->body);
	free(m);
	return NULL;
}

static void msg_free(struct xs_msg *m)
{
	if (m) {
		free(m->body);
		free(m);
	}
}

/* Queue an event (lock held), keeping the pipe invariant. */
static void event_queue(struct xs_handle *h, struct xs_msg *m)
{
	char c = 0;

	if (!h->wh && h->pipe[1] >= 0 && write(h->pipe[1], &c, 1) != 1)
		h->broken = true;
	if (h->wt)
		h->wt->next = m;
	else
		h->wh = m;
	h->wt = m;
	pthread_cond_broadcast(&h->cond);
}

/* The event queue became empty (lock held): drain the pipe's byte. */
static void event_queue_emptied(struct xs_handle *h)
{
	char c;

	if (h->pipe[0] >= 0)
		while (read(h->pipe[0], &c, 1) != 1 && errno == EINTR)
			;
}

/* Route one incoming message (lock not held). */
static void msg_route(struct xs_handle *h, struct xs_msg *m)
{
	pthread_mutex_lock(&h->lock);
	if (m->h.type == XS_WATCH_EVENT) {
		event_queue(h, m);
	} else {
		msg_free(h->reply);
		h->reply = m;
		pthread_cond_broadcast(&h->cond);
	}
	pthread_mutex_unlock(&h->lock);
}

static void *reader_main(void *arg)
{
	struct xs_handle *h = arg;
	struct xs_msg *m;

	while ((m = msg_read(h)))
		msg_route(h, m);
	pthread_mutex_lock(&h->lock);
	h->broken = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Switch the handle to reader-thread mode (idempotent). */
static bool start_reader(struct xs_handle *h)
{
	bool ok = true;

	pthread_mutex_lock(&h->req_lock);
	if (!h->threaded) {
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		ok = pthread_create(&h->thr, NULL, reader_main, h) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		h->threaded = ok;
	}
	pthread_mutex_unlock(&h->req_lock);
	if (!ok)
		errno = EAGAIN;
	return ok;
}

/* Wait for the reply to the request just sent (req_lock held). */
static struct xs_msg *reply_wait(struct xs_handle *h)
{
	struct xs_msg *m = NULL;

	if (!h->threaded) {
		while ((m = msg_read(h)) && m->h.type == XS_WATCH_EVENT)
			msg_route(h, m);
		return m;
	}
	pthread_mutex_lock(&h->lock);
	while (!h->reply && !h->broken)
		pthread_cond_wait(&h->cond, &h->lock);
	m = h->reply;
	h->reply = NULL;
	pthread_mutex_unlock(&h->lock);
	if (!m)
		errno = ECONNRESET;
	return m;
}

/* errno value named by an XS_ERROR body. */
static int errno_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (strcmp(name, xsd_errors[i].errstring) == 0)
			return xsd_errors[i].errnum;
	return EINVAL;
}

/* Write all of v[0..n) (modified); false on error. */
static bool write_iov(int fd, struct iovec *v, unsigned n)
{
	while (n) {
		ssize_t k = writev(fd, v, (int)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		while (n && (size_t)k >= v->iov_len) {
			k -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n) {
			v->iov_base = (char *)v->iov_base + k;
			v->iov_len -= (size_t)k;
		}
	}
	return true;
}

/* Send a request made of iov[0..n) after a header and return the reply
 * body (malloc'd, NUL-terminated) and its length; NULL with errno set. */
static void *xs_talk(struct xs_handle *h, uint32_t type, xs_transaction_t t,
		     const struct iovec *iov, unsigned n, unsigned *len)
{
	struct xsd_sockmsg hdr = { .type = type, .tx_id = t };
	struct iovec v[8];
	struct xs_msg *m;
	unsigned i;
	void *body;

	v[0].iov_base = &hdr;
	v[0].iov_len = sizeof(hdr);
	for (i = 0; i < n; i++) {
		v[i + 1] = iov[i];
		hdr.len += (uint32_t)iov[i].iov_len;
	}
	if (hdr.len > XENSTORE_PAYLOAD_MAX) {
		errno = E2BIG;
		return NULL;
	}
	pthread_mutex_lock(&h->req_lock);
	m = write_iov(h->fd, v, n + 1) ? reply_wait(h) : NULL;
	pthread_mutex_unlock(&h->req_lock);
	if (!m)
		return NULL;
	if (m->h.type == XS_ERROR || m->h.type != type) {
		int e = m->h.type == XS_ERROR ? errno_from_name(m->body) : EBADMSG;

		msg_free(m);
		errno = e;
		return NULL;
	}
	body = m->body;
	if (len)
		*len = m->h.len;
	free(m);
	return body;
}

/* Request whose payload is one string (sent with its NUL). */
static void *xs_single(struct xs_handle *h, xs_transaction_t t, uint32_t type,
		       const char *s, unsigned *len)
{
	struct iovec v = { (void *)s, strlen(s) + 1 };

	return xs_talk(h, type, t, &v, 1, len);
}

/* Free a reply and report success. */
static bool xs_ok(void *reply)
{
	free(reply);
	return reply != NULL;
}

/* Open a stream to path: a Unix socket, or a device file. */
static int xs_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) < sizeof(sun.sun_path)) {
		strcpy(sun.sun_path, path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

struct xs_handle *xs_open(unsigned long flags)
{
	struct xs_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->fd = xs_connect(xs_daemon_socket());
	if (h->fd < 0)
		h->fd = open(getenv("XENSTORED_PATH") ? xs_daemon_socket() : "/dev/xen/xenbus",
			     O_RDWR | O_CLOEXEC);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	h->pipe[0] = h->pipe[1] = -1;
	h->filter = (flags & XS_UNWATCH_FILTER) != 0;
	pthread_mutex_init(&h->req_lock, NULL);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	return h;
}

struct xs_handle *xs_daemon_open(void)
{
	return xs_open(0);
}

struct xs_handle *xs_domain_open(void)
{
	return xs_open(0);
}

struct xs_handle *xs_daemon_open_readonly(void)
{
	return xs_open(0);
}

/* Free everything but the thread (joined or nonexistent by now). */
static void xs_free(struct xs_handle *h)
{
	while (h->wh) {
		struct xs_msg *m = h->wh;

		h->wh = m->next;
		msg_free(m);
	}
	msg_free(h->reply);
	if (h->pipe[0] >= 0) {
		close(h->pipe[0]);
		close(h->pipe[1]);
	}
	close(h->fd);
	pthread_mutex_destroy(&h->req_lock);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}

void xs_close(struct xs_handle *h)
{
	if (!h)
		return;
	if (h->threaded) {
		shutdown(h->fd, SHUT_RDWR);
		pthread_join(h->thr, NULL);
	}
	xs_free(h);
}

void xs_daemon_close(struct xs_handle *h)
{
	xs_close(h);
}

void xs_daemon_destroy_postfork(struct xs_handle *h)
{
	/* The reader thread does not exist in the child; just let go. */
	xs_free(h);
}

/* Split a packed list of len bytes of NUL-terminated names into a malloc'd
 * array (strings stored after it). */
static char **split_list(const char *s, unsigned len, unsigned *num)
{
	unsigned n = 0, i;
	char **v, *p;

	for (i = 0; i < len; i++)
		n += s[i] == '\0';
	v = malloc((n + 1) * sizeof(*v) + len + 1);
	if (!v)
		return NULL;
	p = (char *)(v + n + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	for (i = 0; i < n; i++, p += strlen(p) + 1)
		v[i] = p;
	v[n] = NULL;
	*num = n;
	return v;
}

/* DIRECTORY_PART loop for directories too large for one reply. */
static char **directory_part(struct xs_handle *h, xs_transaction_t t,
			     const char *path, unsigned *num)
{
	char *all = NULL, gen[24] = "", off_s[16];
	unsigned off = 0;
	char **ret;

	for (;;) {
		struct iovec v[2];
		unsigned len, gl;
		char *r, *grown;

		snprintf(off_s, sizeof(off_s), "%u", off);
		v[0] = (struct iovec){ (void *)path, strlen(path) + 1 };
		v[1] = (struct iovec){ off_s, strlen(off_s) + 1 };
		if (!(r = xs_talk(h, XS_DIRECTORY_PART, t, v, 2, &len))) {
			free(all);
			return NULL;
		}
		gl = (unsigned)strnlen(r, len) + 1;
		if (gl > len || gl > sizeof(gen) || (off && strcmp(gen, r))) {
			/* The directory changed between parts: start again. */
			free(r);
			off = 0;
			gen[0] = '\0';
			continue;
		}
		memcpy(gen, r, gl);
		grown = realloc(all, off + (len - gl) + 1);
		if (!grown) {
			free(r);
			free(all);
			return NULL;
		}
		all = grown;
		memcpy(all + off, r + gl, len - gl);
		off += len - gl;
		free(r);
		/* The last part ends with an empty name, i.e. a second NUL. */
		if (len - gl <= 1 || all[off - 2] == '\0')
			break;
	}
	ret = split_list(all, off ? off - 1 : 0, num);
	free(all);
	return ret;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t,
		    const char *path, unsigned int *num)
{
	unsigned len;
	char *r = xs_single(h, t, XS_DIRECTORY, path, &len);
	char **ret;

	if (!r)
		return errno == E2BIG ? directory_part(h, t, path, num) : NULL;
	ret = split_list(r, len, num);
	free(r);
	return ret;
}

void *xs_read(struct xs_handle *h, xs_transaction_t t,
	      const char *path, unsigned int *len)
{
	return xs_single(h, t, XS_READ, path, len);
}

bool xs_write(struct xs_handle *h, xs_transaction_t t,
	      const char *path, const void *data, unsigned int len)
{
	struct iovec v[2] = { { (void *)path, strlen(path) + 1 }, { (void *)data, len } };

	return xs_ok(xs_talk(h, XS_WRITE, t, v, 2, NULL));
}

bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return xs_ok(xs_single(h, t, XS_MKDIR, path, NULL));
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return xs_ok(xs_single(h, t, XS_RM, path, NULL));
}

bool xs_restrict(struct xs_handle *h, unsigned domid)
{
	(void)h; (void)domid;
	errno = ENOSYS;
	return false;
}

struct xs_permissions *xs_get_permissions(struct xs_handle *h, xs_transaction_t t,
					  const char *path, unsigned int *num)
{
	unsigned len, n = 0, i;
	char *r = xs_single(h, t, XS_GET_PERMS, path, &len);
	struct xs_permissions *p;

	if (!r)
		return NULL;
	for (i = 0; i < len; i++)
		n += r[i] == '\0';
	p = malloc((n ? n : 1) * sizeof(*p));
	if (p && !xs_strings_to_perms(p, n, r)) {
		free(p);
		p = NULL;
	}
	free(r);
	if (p)
		*num = n;
	return p;
}

bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
			struct xs_permissions *perms, unsigned int num_perms)
{
	static const char letter[4] = { 'n', 'r', 'w', 'b' };
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t len = 0;
	struct iovec v[2];
	unsigned i;

	for (i = 0; i < num_perms; i++) {
		int k = snprintf(buf + len, sizeof(buf) - len, "%c%u",
				 letter[perms[i].perms & 3], perms[i].id);

		if (k < 0 || (size_t)k + 1 > sizeof(buf) - len) {
			errno = E2BIG;
			return false;
		}
		len += (size_t)k + 1;
	}
	v[0] = (struct iovec){ (void *)path, strlen(path) + 1 };
	v[1] = (struct iovec){ buf, len };
	return xs_ok(xs_talk(h, XS_SET_PERMS, t, v, 2, NULL));
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	struct iovec v[2] = { { (void *)path, strlen(path) + 1 },
			      { (void *)token, strlen(token) + 1 } };

	if (!start_reader(h))
		return false;
	return xs_ok(xs_talk(h, XS_WATCH, XBT_NULL, v, 2, NULL));
}

int xs_fileno(struct xs_handle *h)
{
	char c = 0;

	pthread_mutex_lock(&h->lock);
	if (h->pipe[0] < 0 && pipe2(h->pipe, O_CLOEXEC) == 0 && h->wh &&
	    write(h->pipe[1], &c, 1) != 1)
		h->broken = true;
	pthread_mutex_unlock(&h->lock);
	if (h->pipe[0] < 0 || !start_reader(h))
		return -1;
	return h->pipe[0];
}

/* Take the first queued event, waiting if block; build the caller's array. */
static char **watch_take(struct xs_handle *h, unsigned *num, bool block)
{
	struct xs_msg *m;
	char **ret;

	if (block && !start_reader(h))
		return NULL;
	pthread_mutex_lock(&h->lock);
	while (block && !h->wh && !h->broken)
		pthread_cond_wait(&h->cond, &h->lock);
	m = h->wh;
	if (m) {
		h->wh = m->next;
		if (!h->wh) {
			h->wt = NULL;
			event_queue_emptied(h);
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!m) {
		errno = block ? ECONNRESET : EAGAIN;
		return NULL;
	}
	ret = split_list(m->body, m->h.len, num);
	msg_free(m);
	if (ret && *num < 2) {
		free(ret);
		errno = EBADMSG;
		return NULL;
	}
	return ret;
}

char **xs_check_watch(struct xs_handle *h)
{
	unsigned num;

	return watch_take(h, &num, false);
}

char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
	return watch_take(h, num, true);
}

/* Drop queued events for (path, token) after an unwatch (lock held). */
static void unwatch_filter(struct xs_handle *h, const char *path, const char *token)
{
	struct xs_msg **pp = &h->wh, *m;
	bool had = h->wh != NULL;

	h->wt = NULL;
	while ((m = *pp)) {
		const char *ev = m->body, *tok = ev + strlen(ev) + 1;

		if ((size_t)(tok - ev) < m->h.len && strcmp(tok, token) == 0 &&
		    xs_path_is_subpath(path, ev)) {
			*pp = m->next;
			msg_free(m);
		} else {
			h->wt = m;
			pp = &m->next;
		}
	}
	if (had && !h->wh)
		event_queue_emptied(h);
}

bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	struct iovec v[2] = { { (void *)path, strlen(path) + 1 },
			      { (void *)token, strlen(token) + 1 } };
	bool ok = xs_ok(xs_talk(h, XS_UNWATCH, XBT_NULL, v, 2, NULL));

	if (h->filter) {
		pthread_mutex_lock(&h->lock);
		unwatch_filter(h, path, token);
		pthread_mutex_unlock(&h->lock);
	}
	return ok;
}

xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	char *r = xs_single(h, XBT_NULL, XS_TRANSACTION_START, "", NULL);
	xs_transaction_t t;

	if (!r)
		return XBT_NULL;
	t = (xs_transaction_t)strtoul(r, NULL, 10);
	free(r);
	return t;
}

bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	return xs_ok(xs_single(h, t, XS_TRANSACTION_END, abort ? "F" : "T", NULL));
}

/* Request whose payload is n decimal numbers. */
static void *xs_numbers(struct xs_handle *h, uint32_t type, unsigned n,
			const unsigned long *vals, unsigned *len)
{
	char buf[3][24];
	struct iovec v[3];
	unsigned i;

	for (i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%lu", vals[i]);
		v[i] = (struct iovec){ buf[i], strlen(buf[i]) + 1 };
	}
	return xs_talk(h, type, XBT_NULL, v, n, len);
}

bool xs_introduce_domain(struct xs_handle *h, unsigned int domid,
			 unsigned long mfn, unsigned int eventchn)
{
	unsigned long v[3] = { domid, mfn, eventchn };

	return xs_ok(xs_numbers(h, XS_INTRODUCE, 3, v, NULL));
}

bool xs_set_target(struct xs_handle *h, unsigned int domid, unsigned int target)
{
	unsigned long v[2] = { domid, target };

	return xs_ok(xs_numbers(h, XS_SET_TARGET, 2, v, NULL));
}

bool xs_resume_domain(struct xs_handle *h, unsigned int domid)
{
	unsigned long v = domid;

	return xs_ok(xs_numbers(h, XS_RESUME, 1, &v, NULL));
}

bool xs_release_domain(struct xs_handle *h, unsigned int domid)
{
	unsigned long v = domid;

	return xs_ok(xs_numbers(h, XS_RELEASE, 1, &v, NULL));
}

char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	unsigned long v = domid;

	return xs_numbers(h, XS_GET_DOMAIN_PATH, 1, &v, NULL);
}

bool xs_path_is_subpath(const char *parent, const char *child)
{
	size_t pl = strlen(parent);

	return strncmp(parent, child, pl) == 0 &&
	       (child[pl] == '\0' || child[pl] == '/');
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	unsigned long v = domid;
	char *r = xs_numbers(h, XS_IS_DOMAIN_INTRODUCED, 1, &v, NULL);
	bool yes = r && strcmp(r, "F") != 0;

	free(r);
	return yes;
}

char *xs_control_command(struct xs_handle *h, const char *cmd, void *data,
			 unsigned int len)
{
	struct iovec v[2] = { { (void *)cmd, strlen(cmd) + 1 }, { data, len } };

	return xs_talk(h, XS_CONTROL, XBT_NULL, v, 2, NULL);
}

char *xs_debug_command(struct xs_handle *h, const char *cmd, void *data,
		       unsigned int len)
{
	return xs_control_command(h, cmd, data, len);
}

int xs_suspend_evtchn_port(int domid)
{
	struct xs_handle *h = xs_open(0);
	char path[64], *r;
	unsigned len;
	int port = -1;

	if (!h)
		return -1;
	snprintf(path, sizeof(path), "/local/domain/%d/device/suspend/event-channel", domid);
	r = xs_read(h, XBT_NULL, path, &len);
	if (r && len)
		port = atoi(r);
	free(r);
	xs_close(h);
	return port;
}
