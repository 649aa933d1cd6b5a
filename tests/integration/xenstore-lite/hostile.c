/*
 * hostile: a misbehaving client talking raw xs_wire.h to the daemon at
 * XENSTORED_PATH. Each check sends something malformed, abusive or merely
 * awkward and requires the proper error reply, that the same connection
 * still works afterwards where the protocol allows it, and that other
 * connections are unaffected. Prints "PASS name" / "FAIL name: why";
 * exits 1 if any check failed. "hostile watch-quota N" instead checks a
 * watch quota of N set on the daemon's command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

static int failed;

static void check(int ok, const char *name, const char *why)
{
	if (ok)
		printf("PASS %s\n", name);
	else
		printf("FAIL %s: %s\n", name, why);
	failed |= !ok;
}

static int conn_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv("XENSTORED_PATH");
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (!path || strlen(path) >= sizeof(sun.sun_path) || fd < 0)
		exit(2);
	strcpy(sun.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		perror("hostile: connect");
		exit(2);
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, uint32_t req, uint32_t tx, const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req, .tx_id = tx, .len = len };

	return send_all(fd, &h, sizeof(h)) || send_all(fd, body, len) ? -1 : 0;
}

/* Receive exactly len bytes within 3 s. */
static int recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 3000) != 1)
			return -1;
		n = recv(fd, p, len, 0);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receive one message, skipping watch events unless want_events. */
static int recv_msg(int fd, struct xsd_sockmsg *h, char *body, int want_events)
{
	do {
		if (recv_all(fd, h, sizeof(*h)) || h->len > XENSTORE_PAYLOAD_MAX ||
		    recv_all(fd, body, h->len))
			return -1;
		body[h->len] = '\0';
	} while (!want_events && h->type == XS_WATCH_EVENT);
	return 0;
}

/* Send one request and return 1 if the reply is XS_ERROR named err (or, if
 * err is NULL, a reply of the request's own type). */
static int expect(int fd, uint32_t type, uint32_t tx, const void *body, uint32_t len, const char *err)
{
	static uint32_t req = 100;
	struct xsd_sockmsg h;
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	if (send_msg(fd, type, ++req, tx, body, len) || recv_msg(fd, &h, buf, 0))
		return 0;
	if (h.req_id != req)
		return 0;
	if (!err)
		return h.type == type;
	return h.type == XS_ERROR && strcmp(buf, err) == 0;
}

/* The connection still answers a READ of "/". */
static int alive(int fd)
{
	return expect(fd, XS_READ, 0, "/", 2, NULL);
}

static void test_framing(void)
{
	int fd = conn_open();
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 1, .len = 100000 };
	char junk[4096];
	size_t i;

	check(expect(fd, 999, 0, "/", 2, "EINVAL") && alive(fd), "unknown-type-einval", "bad reply");
	check(expect(fd, XS_WATCH_EVENT, 0, "/\0t", 4, "EINVAL") && alive(fd),
	      "client-watch-event-einval", "bad reply");
	check(expect(fd, XS_ERROR, 0, "", 0, "EINVAL") && alive(fd), "client-error-einval", "bad reply");
	memset(junk, 'j', sizeof(junk));
	send_all(fd, &h, sizeof(h));
	for (i = 0; i < 100000; i += sizeof(junk))
		send_all(fd, junk, 100000 - i < sizeof(junk) ? 100000 - i : sizeof(junk));
	{
		struct xsd_sockmsg r;
		char buf[XENSTORE_PAYLOAD_MAX + 1];

		check(recv_msg(fd, &r, buf, 0) == 0 && r.type == XS_ERROR && strcmp(buf, "E2BIG") == 0 &&
		      alive(fd), "oversized-payload-e2big-resync", "bad reply or lost sync");
	}
	close(fd);
}

/* A request the daemon must refuse with err, checked as test name. */
struct bad_req {
	uint32_t type, tx;
	const char *body;
	uint32_t len;
	const char *err, *name;
};

/* Contract: sends each of the n cases on fd, one check per case. */
static void check_refusals(int fd, const struct bad_req *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check(expect(fd, cases[i].type, cases[i].tx, cases[i].body, cases[i].len, cases[i].err),
		      cases[i].name, "bad reply");
}

/* Malformed paths and arguments: each refused, the connection kept. */
static void test_refusals(void)
{
	int fd = conn_open();
	char longp[3200];
	static const struct bad_req cases[] = {
		{ XS_READ, 0, "/abc", 4, "EINVAL", "unterminated-path" },
		{ XS_READ, 0, "/a b", 5, "EINVAL", "space-in-path" },
		{ XS_WRITE, 0, "/a//b\0v", 7, "EINVAL", "double-slash" },
		{ XS_WRITE, 0, "/a/\0v", 5, "EINVAL", "trailing-slash" },
		{ XS_READ, 0, "", 1, "EINVAL", "empty-path" },
		{ XS_READ, 0, "", 0, "EINVAL", "no-payload" },
		{ XS_READ, 0, "/\xff\x01", 4, "EINVAL", "binary-path" },
		{ XS_WRITE, 0, "@x\0v", 4, "EINVAL", "special-path-write" },
		{ XS_RM, 0, "/", 2, "EINVAL", "rm-root" },
		{ XS_RM, 0, "/no/such/parent", 16, "ENOENT", "rm-missing-parent" },
		{ XS_READ, 4242, "/", 2, "ENOENT", "unknown-tx-enoent" },
		{ XS_TRANSACTION_END, 0, "T", 2, "ENOENT", "end-without-tx" },
		{ XS_SET_PERMS, 0, "/\0q7", 5, "EINVAL", "bad-perm-letter" },
		{ XS_SET_PERMS, 0, "/\0r70000", 9, "EINVAL", "bad-perm-domid" },
		{ XS_SET_PERMS, 0, "/", 2, "EINVAL", "no-perms" },
		{ XS_INTRODUCE, 0, "abc\0" "1\0" "2", 8, "EINVAL", "introduce-bad-domid" },
		{ XS_INTRODUCE, 0, "70000\0" "1\0" "2", 10, "EINVAL", "introduce-big-domid" },
		{ XS_INTRODUCE, 0, "5", 2, "EINVAL", "introduce-missing-args" },
		{ XS_RELEASE, 0, "0", 2, "EINVAL", "release-dom0" },
		{ XS_RELEASE, 0, "77", 3, "ENOENT", "release-unknown" },
		{ XS_DIRECTORY_PART, 0, "/\0x", 4, "EINVAL", "dirpart-bad-offset" },
		{ XS_CONTROL, 0, "frobnicate", 11, "EINVAL", "control-unknown" },
		{ XS_GET_DOMAIN_PATH, 0, "-1", 3, "EINVAL", "domain-path-negative" },
		{ XS_UNWATCH, 0, "/x\0t", 5, "ENOENT", "unwatch-unknown" },
	};

	check_refusals(fd, cases, sizeof(cases) / sizeof(cases[0]));
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[3100] = '\0';
	check(expect(fd, XS_WRITE, 0, longp, 3101, "EINVAL"), "abs-path-too-long", "bad reply");
	longp[2100] = '\0';
	check(expect(fd, XS_WRITE, 0, longp + 1, 2100, "EINVAL"), "rel-path-too-long", "bad reply");
	check(alive(fd), "alive-after-bad-requests", "connection lost");
	close(fd);
}

static void test_floods(void)
{
	int fd = conn_open(), other = conn_open();
	int i, ok = 0, refused = 0;
	char tok[32];

	for (i = 0; i < 200; i++) {
		char body[64];
		int n = snprintf(body, sizeof(body), "/flood%c%d", 0, i);

		snprintf(tok, sizeof(tok), "%d", i);
		if (expect(fd, XS_WATCH, 0, body, (uint32_t)n + 1, NULL))
			ok++;
		else
			refused++;
	}
	check(ok == 128 && refused == 72, "watch-flood-quota", "expected 128 accepted");
	check(expect(fd, XS_WATCH, 0, "/x\0t", 5, "E2BIG"), "watch-over-quota-e2big", "bad reply");
	for (i = 0, ok = 0; i < 20; i++)
		ok += expect(fd, XS_TRANSACTION_START, 0, "", 1, NULL);
	check(ok == 10 && expect(fd, XS_TRANSACTION_START, 0, "", 1, "ENOSPC"),
	      "transaction-flood-enospc", "expected 10 then ENOSPC");
	check(alive(other) && expect(other, XS_TRANSACTION_START, 0, "", 1, NULL),
	      "other-connection-unaffected", "other connection refused");
	close(fd);
	close(other);
}

static void test_pipelining(void)
{
	int fd = conn_open(), i, ok = 1;
	char buf[100 * (sizeof(struct xsd_sockmsg) + 2)];
	size_t off = 0;

	for (i = 0; i < 100; i++) {
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = (uint32_t)i, .len = 2 };

		memcpy(buf + off, &h, sizeof(h));
		memcpy(buf + off + sizeof(h), "/", 2);
		off += sizeof(h) + 2;
	}
	send_all(fd, buf, off);
	for (i = 0; i < 100 && ok; i++) {
		struct xsd_sockmsg r;
		char body[XENSTORE_PAYLOAD_MAX + 1];

		ok = recv_msg(fd, &r, body, 0) == 0 && r.req_id == (uint32_t)i && r.type == XS_READ;
	}
	check(ok, "pipelined-100-in-order", "replies missing or out of order");
	for (i = 0, ok = 1; i < (int)sizeof(struct xsd_sockmsg) + 2 && ok; i++) {
		struct xsd_sockmsg h = { .type = XS_READ, .req_id = 7, .len = 2 };
		char one[sizeof(h) + 2];

		memcpy(one, &h, sizeof(h));
		memcpy(one + sizeof(h), "/", 2);
		ok = send_all(fd, one + i, 1) == 0;
		usleep(2000);
	}
	{
		struct xsd_sockmsg r;
		char body[XENSTORE_PAYLOAD_MAX + 1];

		check(ok && recv_msg(fd, &r, body, 0) == 0 && r.req_id == 7, "byte-by-byte-request",
		      "no reply");
	}
	close(fd);
}

static void test_abusers(void)
{
	int quiet = conn_open(), other = conn_open(), i;
	char req[sizeof(struct xsd_sockmsg) + 2];
	struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };
	int fd, rnd;
	char junk[65536];

	/* A client that sends many requests and never reads its replies. */
	fcntl(quiet, F_SETFL, O_NONBLOCK);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), "/", 2);
	for (i = 0; i < 200000; i++)
		if (send(quiet, req, sizeof(req), MSG_NOSIGNAL) < 0)
			break;
	check(alive(other), "non-reading-client-isolated", "other connection stalled");
	close(quiet);

	fd = conn_open();
	send_all(fd, "\x02\x00", 2);
	close(fd);
	check(alive(other), "partial-header-then-close", "daemon lost");

	rnd = open("/dev/urandom", O_RDONLY);
	for (i = 0; i < 8; i++) {
		fd = conn_open();
		if (read(rnd, junk, sizeof(junk)) == (ssize_t)sizeof(junk))
			send_all(fd, junk, sizeof(junk));
		close(fd);
	}
	close(rnd);
	check(alive(other), "random-garbage-clients", "daemon lost");
	check(expect(other, XS_CONTROL, 0, "check", 6, NULL), "store-consistent-after-abuse",
	      "store check failed");
	close(other);
}

/* With "watch-quota N": the daemon was started with -Q watches=N; the
 * (N+1)th watch on one connection must be refused with E2BIG. */
static int watch_quota(int n)
{
	int fd = conn_open(), i, ok = 1;
	char body[32];

	for (i = 0; i < n; i++) {
		int len = snprintf(body, sizeof(body), "/q%d%ct", i, 0) + 1;

		ok &= expect(fd, XS_WATCH, 0, body, (uint32_t)len, NULL);
	}
	check(ok && expect(fd, XS_WATCH, 0, "/q\0t", 5, "E2BIG"), "cmdline-watch-quota",
	      "quota from the command line not applied");
	close(fd);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "watch-quota") == 0)
		return watch_quota(atoi(argv[2]));
	test_framing();
	test_refusals();
	test_floods();
	test_pipelining();
	test_abusers();
	return failed;
}
