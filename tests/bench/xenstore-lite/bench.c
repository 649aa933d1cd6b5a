/*
 * bench: XenStore operation throughput through the libxenstore API (our
 * library), against the daemon at XENSTORED_PATH.
 *
 *   bench OP CLIENTS SECONDS   OP = read | write | directory | watch | txrmw
 *                                   | pipelined
 *   bench fill N               write N nodes, print their path+value bytes
 *
 * Each client is a thread with its own connection. Prints one line:
 * "OP CLIENTS ops/s". For watch, one extra connection writes and every
 * client watches the written node; the rate is events delivered per second.
 * "pipelined" bypasses the library: each client writes PIPE_DEPTH READ
 * requests at once on a raw socket and then reads their replies, which
 * measures the daemon rather than process wake-ups.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static atomic_bool stop;
static const char *op;

struct client {
	pthread_t thr;
	int id;
	unsigned long ops;
	struct xs_handle *h;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One transaction read-modify-write of the client's counter, retried on
 * EAGAIN. */
static void txrmw(struct client *c, const char *path)
{
	for (;;) {
		xs_transaction_t t = xs_transaction_start(c->h);
		char *v, buf[32];
		unsigned len;

		if (!t)
			die("transaction_start");
		v = xs_read(c->h, t, path, &len);
		snprintf(buf, sizeof(buf), "%lu", v ? strtoul(v, NULL, 10) + 1 : 1);
		free(v);
		if (!xs_write(c->h, t, path, buf, (unsigned)strlen(buf)))
			die("write in transaction");
		if (xs_transaction_end(c->h, t, false))
			return;
		if (errno != EAGAIN)
			die("transaction_end");
	}
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	char path[64];
	unsigned len, n;

	snprintf(path, sizeof(path), "/bench/c%d", c->id);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (strcmp(op, "read") == 0) {
			void *v = xs_read(c->h, XBT_NULL, "/bench/dir/k0", &len);

			if (!v)
				die("read");
			free(v);
		} else if (strcmp(op, "write") == 0) {
			if (!xs_write(c->h, XBT_NULL, path, "value", 5))
				die("write");
		} else if (strcmp(op, "directory") == 0) {
			char **d = xs_directory(c->h, XBT_NULL, "/bench/dir", &n);

			if (!d)
				die("directory");
			free(d);
		} else {
			txrmw(c, path);
		}
		c->ops++;
	}
	return NULL;
}

#define PIPE_DEPTH 32

/* Raw connection to the daemon at XENSTORED_PATH. */
static int raw_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strncpy(sun.sun_path, getenv("XENSTORED_PATH"), sizeof(sun.sun_path) - 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		die("connect");
	return fd;
}

/* Read exactly len bytes. */
static void raw_read(int fd, char *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			die("read");
		p += n;
		len -= (size_t)n;
	}
}

static void *pipelined_main(void *arg)
{
	static const char path[] = "/bench/dir/k0";
	struct client *c = arg;
	struct xsd_sockmsg h = { .type = XS_READ, .len = sizeof(path) };
	char batch[PIPE_DEPTH * (sizeof(h) + sizeof(path))], reply[64];
	int fd = raw_connect(), i;
	size_t off = 0;

	for (i = 0; i < PIPE_DEPTH; i++) {
		memcpy(batch + off, &h, sizeof(h));
		memcpy(batch + off + sizeof(h), path, sizeof(path));
		off += sizeof(h) + sizeof(path);
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (write(fd, batch, off) != (ssize_t)off)
			die("write");
		/* Each reply: header plus the 10-byte value. */
		for (i = 0; i < PIPE_DEPTH; i++)
			raw_read(fd, reply, sizeof(h) + 10);
		c->ops += PIPE_DEPTH;
	}
	close(fd);
	return NULL;
}

static void *watcher_main(void *arg)
{
	struct client *c = arg;
	unsigned n;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		char **e = xs_read_watch(c->h, &n);

		if (!e)
			break;
		free(e);
		c->ops++;
	}
	return NULL;
}

static void setup_tree(void)
{
	struct xs_handle *h = xs_open(0);
	char p[64];
	int i;

	if (!h)
		die("xs_open");
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "/bench/dir/k%d", i);
		if (!xs_write(h, XBT_NULL, p, "0123456789", 10))
			die("setup write");
	}
	xs_close(h);
}

/* Writer for the watch benchmark: writes until told to stop. */
static void *writer_main(void *arg)
{
	struct xs_handle *h = arg;
	unsigned long i = 0;
	char v[32];

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = snprintf(v, sizeof(v), "%lu", i++);

		if (!xs_write(h, XBT_NULL, "/bench/w/node", v, (unsigned)n))
			die("watch writer");
	}
	return NULL;
}

static int fill(long n)
{
	struct xs_handle *h = xs_open(0);
	unsigned long long bytes = 0;
	char p[64];
	long i;

	if (!h)
		die("xs_open");
	for (i = 0; i < n; i++) {
		int pl = snprintf(p, sizeof(p), "/fill/d%ld/n%ld", i / 1000, i);

		if (!xs_write(h, XBT_NULL, p, "value-1234", 10))
			die("fill write");
		bytes += (unsigned long long)pl + 10;
	}
	bytes += (unsigned long long)(n + 999) / 1000 * strlen("/fill/d000") + strlen("/fill");
	xs_close(h);
	printf("%llu\n", bytes);
	return 0;
}

int main(int argc, char **argv)
{
	struct client *cl;
	struct xs_handle *wh = NULL;
	pthread_t writer;
	int nc, i, secs;
	unsigned long total = 0;
	double t0, t1;
	bool watch;

	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return fill(atol(argv[2]));
	if (argc != 4) {
		fprintf(stderr, "usage: bench OP CLIENTS SECONDS | bench fill N\n");
		return 2;
	}
	op = argv[1];
	nc = atoi(argv[2]);
	secs = atoi(argv[3]);
	watch = strcmp(op, "watch") == 0;
	setup_tree();
	cl = calloc((size_t)nc, sizeof(*cl));
	for (i = 0; i < nc; i++) {
		cl[i].id = i;
		cl[i].h = xs_open(0);
		if (!cl[i].h)
			die("xs_open");
		if (watch) {
			unsigned n;
			char **e;

			if (!xs_watch(cl[i].h, "/bench/w", "t") || !(e = xs_read_watch(cl[i].h, &n)))
				die("watch");
			free(e);
		}
	}
	t0 = now();
	for (i = 0; i < nc; i++)
		pthread_create(&cl[i].thr, NULL, watch ? watcher_main :
			       strcmp(op, "pipelined") == 0 ? pipelined_main : client_main, &cl[i]);
	if (watch) {
		if (!(wh = xs_open(0)))
			die("xs_open");
		pthread_create(&writer, NULL, writer_main, wh);
	}
	while (now() - t0 < secs) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	t1 = now();
	if (watch) {
		/* One last write wakes every watcher so it sees stop. */
		pthread_join(writer, NULL);
		if (!xs_write(wh, XBT_NULL, "/bench/w/node", "end", 3))
			die("final write");
	}
	for (i = 0; i < nc; i++) {
		pthread_join(cl[i].thr, NULL);
		xs_close(cl[i].h);
		total += cl[i].ops;
	}
	xs_close(wh);
	printf("%-10s %3d clients %10.0f ops/s\n", op, nc, (double)total / (t1 - t0));
	free(cl);
	return 0;
}
