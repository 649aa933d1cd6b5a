/*
 * api_test: exercises the libxenstore API (xenstore.h) against a running
 * daemon found through XENSTORED_PATH. The same source is linked once
 * against xenstore-lite's library and once against Debian's libxenstore, so
 * it checks both our library and our daemon's compatibility with the
 * reference client. Usage: api_test PREFIX (a store path it may use freely).
 * Prints "PASS name" / "FAIL name: why" per check; exits 1 if any failed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int failed;
static const char *pfx;

static void check(int ok, const char *name, const char *why)
{
	if (ok)
		printf("PASS %s\n", name);
	else
		printf("FAIL %s: %s (errno %s)\n", name, why, strerror(errno));
	failed |= !ok;
}

/* Build PREFIX/suffix in a static rotating buffer. */
static const char *P(const char *suffix)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", pfx, suffix);
	return buf[i];
}

/* True if the value at path equals want. */
static int value_is(struct xs_handle *h, xs_transaction_t t, const char *path, const char *want)
{
	unsigned len;
	char *v = xs_read(h, t, path, &len);
	int ok = v && len == strlen(want) && memcmp(v, want, len) == 0;

	free(v);
	return ok;
}

static void test_basic(struct xs_handle *h)
{
	static const char bin[5] = { 'a', 0, 'b', 0, 'c' };
	unsigned len, n;
	char *v, **d;

	check(xs_write(h, XBT_NULL, P("/a/b/c"), "hello", 5), "write-implicit-parents", "write failed");
	check(value_is(h, XBT_NULL, P("/a/b/c"), "hello"), "read-back", "value differs");
	check(value_is(h, XBT_NULL, P("/a/b"), ""), "implicit-parent-empty", "parent value not empty");
	v = xs_read(h, XBT_NULL, P("/nope"), &len);
	check(!v && errno == ENOENT, "read-missing-enoent", "expected ENOENT");
	check(xs_write(h, XBT_NULL, P("/bin"), bin, 5), "write-binary", "write failed");
	v = xs_read(h, XBT_NULL, P("/bin"), &len);
	check(v && len == 5 && memcmp(v, bin, 5) == 0 && v[5] == '\0', "read-binary", "binary value differs");
	free(v);
	xs_write(h, XBT_NULL, P("/a/x"), "1", 1);
	d = xs_directory(h, XBT_NULL, P("/a"), &n);
	check(d && n == 2 && strcmp(d[0], "b") == 0 && strcmp(d[1], "x") == 0,
	      "directory", "wrong children");
	free(d);
	check(xs_mkdir(h, XBT_NULL, P("/a")), "mkdir-existing", "mkdir failed");
	check(xs_mkdir(h, XBT_NULL, P("/m/n")), "mkdir-new", "mkdir failed");
	check(xs_rm(h, XBT_NULL, P("/a")), "rm-subtree", "rm failed");
	v = xs_read(h, XBT_NULL, P("/a/b/c"), &len);
	check(!v && errno == ENOENT, "rm-removed-children", "child survived");
	check(!xs_write(h, XBT_NULL, "/bad//path", "x", 1) && errno == EINVAL,
	      "invalid-path-einval", "expected EINVAL");
}

static void test_big(struct xs_handle *h)
{
	char val[4000], name[64];
	unsigned len, n, i;
	char *v, **d;

	memset(val, 'v', sizeof(val));
	check(xs_write(h, XBT_NULL, P("/big"), val, sizeof(val)), "write-4000", "write failed");
	v = xs_read(h, XBT_NULL, P("/big"), &len);
	check(v && len == sizeof(val) && memcmp(v, val, len) == 0, "read-4000", "value differs");
	free(v);
	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "%s/dir/child-%04u", pfx, i);
		if (!xs_write(h, XBT_NULL, name, "", 0))
			break;
	}
	d = xs_directory(h, XBT_NULL, P("/dir"), &n);
	check(d && n == 600 && strcmp(d[599], "child-0599") == 0,
	      "directory-part-600", "large directory not listed completely");
	free(d);
}

static void test_perms(struct xs_handle *h)
{
	struct xs_permissions set[2] = { { .id = 3, .perms = XS_PERM_READ },
					 { .id = 5, .perms = XS_PERM_READ | XS_PERM_WRITE } };
	struct xs_permissions *got;
	unsigned n = 0;

	xs_write(h, XBT_NULL, P("/p"), "x", 1);
	check(xs_set_permissions(h, XBT_NULL, P("/p"), set, 2), "set-perms", "failed");
	got = xs_get_permissions(h, XBT_NULL, P("/p"), &n);
	check(got && n == 2 && got[0].id == 3 && got[0].perms == XS_PERM_READ &&
	      got[1].id == 5 && got[1].perms == (XS_PERM_READ | XS_PERM_WRITE),
	      "get-perms", "perms differ");
	free(got);
}

static void test_transactions(struct xs_handle *h)
{
	xs_transaction_t t = xs_transaction_start(h), t2;

	check(t != XBT_NULL, "tx-start", "no transaction");
	xs_write(h, t, P("/tx/k"), "in", 2);
	check(value_is(h, t, P("/tx/k"), "in"), "tx-sees-own-write", "own write invisible");
	check(!value_is(h, XBT_NULL, P("/tx/k"), "in"), "tx-isolated", "write leaked before commit");
	check(xs_transaction_end(h, t, false), "tx-commit", "commit failed");
	check(value_is(h, XBT_NULL, P("/tx/k"), "in"), "tx-committed-visible", "not visible");

	t = xs_transaction_start(h);
	free(xs_read(h, t, P("/tx/k"), NULL));
	xs_write(h, XBT_NULL, P("/tx/k"), "other", 5);
	xs_write(h, t, P("/tx/k2"), "mine", 4);
	check(!xs_transaction_end(h, t, false) && errno == EAGAIN, "tx-conflict-eagain",
	      "expected EAGAIN");
	check(!value_is(h, XBT_NULL, P("/tx/k2"), "mine"), "tx-conflict-not-applied", "applied");

	t = xs_transaction_start(h);
	t2 = xs_transaction_start(h);
	xs_write(h, t, P("/tx/one"), "1", 1);
	xs_write(h, t2, P("/tx/two"), "2", 1);
	check(xs_transaction_end(h, t, false) && xs_transaction_end(h, t2, false),
	      "tx-independent-both-commit", "one failed");

	t = xs_transaction_start(h);
	xs_write(h, t, P("/tx/aborted"), "x", 1);
	check(xs_transaction_end(h, t, true), "tx-abort", "abort failed");
	check(!value_is(h, XBT_NULL, P("/tx/aborted"), "x"), "tx-abort-discards", "applied");
}

/* Read one watch event and compare it. */
static int event_is(struct xs_handle *h, const char *path, const char *token)
{
	unsigned n;
	char **e = xs_read_watch(h, &n);
	int ok = e && n >= 2 && strcmp(e[XS_WATCH_PATH], path) == 0 &&
		 strcmp(e[XS_WATCH_TOKEN], token) == 0;

	if (e && !ok)
		fprintf(stderr, "  got event %s %s\n", e[0], e[1]);
	free(e);
	return ok;
}

static void test_watches(struct xs_handle *h)
{
	struct pollfd pfd;

	check(xs_watch(h, P("/w"), "tok"), "watch", "failed");
	check(event_is(h, P("/w"), "tok"), "watch-fires-on-registration", "no initial event");
	xs_write(h, XBT_NULL, P("/w/child"), "1", 1);
	pfd.fd = xs_fileno(h);
	pfd.events = POLLIN;
	check(pfd.fd >= 0 && poll(&pfd, 1, 2000) == 1, "watch-fileno-readable", "fd not readable");
	check(event_is(h, P("/w/child"), "tok"), "watch-child-event", "wrong event");
	check(xs_check_watch(h) == NULL && errno == EAGAIN, "check-watch-empty", "expected EAGAIN");
	check(xs_unwatch(h, P("/w"), "tok"), "unwatch", "failed");
	check(!xs_unwatch(h, P("/w"), "tok") && errno == ENOENT, "unwatch-twice-enoent", "expected ENOENT");

	check(xs_watch(h, "@introduceDomain", "intro") && event_is(h, "@introduceDomain", "intro"),
	      "watch-introduce", "no initial event");
	check(xs_watch(h, "@releaseDomain", "rel") && event_is(h, "@releaseDomain", "rel"),
	      "watch-release", "no initial event");
	check(xs_introduce_domain(h, 7, 1234, 5), "introduce", "failed");
	check(event_is(h, "@introduceDomain", "intro"), "introduce-event", "no event");
	check(xs_is_domain_introduced(h, 7) && !xs_is_domain_introduced(h, 8),
	      "is-domain-introduced", "wrong answer");
	check(xs_resume_domain(h, 7), "resume", "failed");
	check(xs_introduce_domain(h, 9, 1, 1) && event_is(h, "@introduceDomain", "intro") &&
	      xs_set_target(h, 9, 7), "set-target", "failed");
	check(xs_release_domain(h, 7) && xs_release_domain(h, 9), "release", "failed");
	check(event_is(h, "@releaseDomain", "rel") && event_is(h, "@releaseDomain", "rel"),
	      "release-events", "no event");
	check(!xs_is_domain_introduced(h, 7), "released-not-introduced", "still introduced");
	xs_unwatch(h, "@introduceDomain", "intro");
	xs_unwatch(h, "@releaseDomain", "rel");
}

/* Every function of xenstore.h and xenstore_lib.h, so that linking this
 * program proves the library provides the whole API. */
static void *const api[] = {
	(void *)xs_open, (void *)xs_close, (void *)xs_daemon_open, (void *)xs_domain_open,
	(void *)xs_daemon_open_readonly, (void *)xs_daemon_close,
	(void *)xs_daemon_destroy_postfork, (void *)xs_directory, (void *)xs_read,
	(void *)xs_write, (void *)xs_mkdir, (void *)xs_rm, (void *)xs_restrict,
	(void *)xs_get_permissions, (void *)xs_set_permissions, (void *)xs_watch,
	(void *)xs_fileno, (void *)xs_check_watch, (void *)xs_read_watch, (void *)xs_unwatch,
	(void *)xs_transaction_start, (void *)xs_transaction_end, (void *)xs_introduce_domain,
	(void *)xs_set_target, (void *)xs_resume_domain, (void *)xs_release_domain,
	(void *)xs_get_domain_path, (void *)xs_path_is_subpath, (void *)xs_is_domain_introduced,
	(void *)xs_control_command, (void *)xs_debug_command, (void *)xs_suspend_evtchn_port,
	(void *)xs_daemon_rundir, (void *)xs_daemon_socket, (void *)xs_daemon_socket_ro,
	(void *)xs_write_all, (void *)xs_strings_to_perms,
};

struct hammer {
	pthread_t thr;
	struct xs_handle *h;
	int id, ok;
};

/* One of several threads sharing a handle: write and read back its own
 * key many times. */
static void *hammer_main(void *arg)
{
	struct hammer *hm = arg;
	char path[256], val[32];
	int i;

	hm->ok = 1;
	for (i = 0; i < 300 && hm->ok; i++) {
		snprintf(path, sizeof(path), "%s/threads/t%d", pfx, hm->id);
		snprintf(val, sizeof(val), "%d-%d", hm->id, i);
		hm->ok = xs_write(hm->h, XBT_NULL, path, val, (unsigned)strlen(val)) &&
			 value_is(hm->h, XBT_NULL, path, val);
	}
	return NULL;
}

/* Several threads share one handle while watch events arrive: every reply
 * must reach the thread that asked, and every event the event queue. */
static void test_threads(struct xs_handle *h)
{
	struct hammer hm[4];
	struct pollfd pfd = { .fd = xs_fileno(h), .events = POLLIN };
	unsigned events = 0;
	char **e;
	int i, ok = 1;

	check(xs_watch(h, P("/threads"), "thr") && event_is(h, P("/threads"), "thr"),
	      "threads-watch", "no initial event");
	for (i = 0; i < 4; i++) {
		hm[i].h = h;
		hm[i].id = i;
		pthread_create(&hm[i].thr, NULL, hammer_main, &hm[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(hm[i].thr, NULL);
		ok &= hm[i].ok;
	}
	check(ok, "threads-share-handle", "a thread got a wrong reply");
	/* The last events may still be on their way: wait for the fd. */
	while (events < 1200 && poll(&pfd, 1, 3000) == 1) {
		while ((e = xs_check_watch(h))) {
			events++;
			free(e);
		}
	}
	check(events == 1200, "threads-all-events-queued", "events lost");
	xs_unwatch(h, P("/threads"), "thr");
}

static void test_misc(struct xs_handle *h)
{
	struct xs_permissions pm[2];
	size_t i, n = 0;

	for (i = 0; i < sizeof(api) / sizeof(api[0]); i++)
		n += api[i] != NULL;
	check(n == 37, "whole-api-linked", "missing function");
	check(strcmp(xs_daemon_socket(), getenv("XENSTORED_PATH")) == 0, "daemon-socket-env",
	      "XENSTORED_PATH not honoured");
	check(xs_strings_to_perms(pm, 2, "r3\0b0") && pm[0].id == 3 && pm[0].perms == XS_PERM_READ &&
	      pm[1].perms == (XS_PERM_READ | XS_PERM_WRITE) && !xs_strings_to_perms(pm, 1, "x1"),
	      "strings-to-perms", "wrong parse");
	char *p = xs_get_domain_path(h, 5);
	char *r;

	check(p && strcmp(p, "/local/domain/5") == 0, "get-domain-path", "wrong path");
	free(p);
	r = xs_control_command(h, "check", NULL, 0);
	check(r && strcmp(r, "OK") == 0, "control-check", "store check failed");
	free(r);
	check(xs_path_is_subpath("/a", "/a/b") && !xs_path_is_subpath("/a", "/ab"),
	      "path-is-subpath", "wrong");
}

int main(int argc, char **argv)
{
	struct xs_handle *h;

	if (argc != 2) {
		fprintf(stderr, "usage: api_test PREFIX\n");
		return 2;
	}
	pfx = argv[1];
	h = xs_open(0);
	check(h != NULL, "open", "cannot connect");
	if (!h)
		return 1;
	test_basic(h);
	test_big(h);
	test_perms(h);
	test_transactions(h);
	test_watches(h);
	test_threads(h);
	test_misc(h);
	xs_rm(h, XBT_NULL, pfx);
	xs_close(h);
	return failed;
}
