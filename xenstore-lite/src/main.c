/*
 * main: the xenstore-lite daemon's entry point. Parses the command line,
 * sets up logging, the socket, the hypervisor (xen.h: on a Xen host, where
 * /dev/xen/evtchn exists; introduced domains are then served), the initial
 * domain's ring (dom0.h: when /proc/xen/xsd_kva exists, unless -D) and
 * signal handling, and runs the libevent loop in the foreground until
 * SIGTERM or SIGINT, then shuts down cleanly (clients closed, socket file
 * removed, rings released).
 * Exit status: 0 after a signal or --help, 1 if it could not start (the
 * socket path already served by a running daemon, unusable, a Xen host
 * whose interfaces or dom0 ring cannot be served, ...), 2 on a usage error
 * (unknown option, bad quota, stray argument).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "dom0.h"
#include "domain.h"
#include "socket.h"
#include "xen.h"
#include "xsd.h"

#define DEFAULT_SOCKET "/var/run/xenstored/socket"

/* Print the option summary to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenstore-lite [options]\n"
		"  -s, --socket PATH    listen on PATH (default $XENSTORED_PATH or "
		DEFAULT_SOCKET ")\n"
		"  -l, --log FILE       log to FILE instead of stderr\n"
		"  -v, --verbose        more logging (repeatable, up to 3)\n"
		"  -Q, --quota N=V      set a quota (nodes, watches, transactions,\n"
		"                       transaction-nodes, node-size, permissions,\n"
		"                       memory, outstanding, output-buffer)\n"
		"  -D, --no-domain-init do not serve dom0's own ring (" DOM0_XENFS "/xsd_kva),\n"
		"                       which is served by default when it exists\n"
		"  -h, --help           this text\n");
}

/* SIGTERM/SIGINT: leave the event loop for a clean shutdown. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what;
	event_base_loopbreak(arg);
}

/* Parse options into d, *sock and *dom0 (serve dom0's ring). Returns 0, 1
 * (help shown), -1 (could not open the log) or -2 (usage error, reported in
 * one line then the usage). */
static int parse_args(int argc, char **argv, struct xsd *d, const char **sock, bool *dom0)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quota", required_argument, NULL, 'Q' },
		{ "no-domain-init", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "s:l:vQ:Dh", lo, NULL)) != -1) {
		switch (o) {
		case 's': *sock = optarg; break;
		case 'v': d->loglevel += d->loglevel < LOG_DEBUG; break;
		case 'D': *dom0 = false; break;
		case 'h': usage(stdout); return 1;
		case 'l':
			if (!(d->logf = fopen(optarg, "a"))) {
				fprintf(stderr, "xenstore-lite: %s: %s\n", optarg, strerror(errno));
				return -1;
			}
			break;
		case 'Q':
			if (quota_assign(d, optarg) == 0)
				break;
			fprintf(stderr, "xenstore-lite: bad quota '%s'\n", optarg);
			return -2;
		default: usage(stderr); return -2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xenstore-lite: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -2;
	}
	return 0;
}

/* Open the hypervisor (*x set, NULL when hosted) and, if dom0 is set and
 * this is the initial domain, serve dom0's own ring. Returns 0, or -errno
 * (reported) if this is a Xen host that cannot be served. */
static int start_xen(struct xsd *d, struct event_base *base, bool dom0, struct xen **x)
{
	unsigned port;
	int err = xen_open(d, base, x);

	if (err == -ENOENT || err == -ENOSYS) {
		*x = NULL;
		xsd_log(d, err == -ENOSYS || dom0_present(DOM0_XENFS) ? LOG_WARN : LOG_INFO,
			"%s: sockets only, INTRODUCE records domains without serving them",
			err == -ENOSYS ? "built without libxen" : "no /dev/xen/evtchn (not on Xen)");
		return 0;
	}
	if (err < 0) {
		fprintf(stderr, "xenstore-lite: cannot open the hypervisor interfaces "
			"(/dev/xen/evtchn, gntdev, privcmd; VIRQ_DOM_EXC): %s\n", strerror(-err));
		return err;
	}
	if (!dom0 || !dom0_present(DOM0_XENFS))
		return 0;
	if ((err = dom0_port(DOM0_XENFS, &port)) == 0 &&
	    (err = domain_connect_dom0(d, port)) == 0) {
		xsd_log(d, LOG_WARN, "serving dom0's ring (%s/xsd_kva, port %u)", DOM0_XENFS, port);
		return 0;
	}
	fprintf(stderr, "xenstore-lite: cannot serve dom0's ring (%s/xsd_kva, "
		"xsd_port): %s\n", DOM0_XENFS, strerror(-err));
	return err;
}

/* Run the event loop on an initialised daemon, serving dom0's ring too if
 * dom0 is set and it exists; returns the exit status. */
static int run(struct xsd *d, const char *sock, bool dom0)
{
	struct event_base *base = event_base_new();
	struct event *sigterm = NULL, *sigint = NULL;
	struct sock_server *srv = NULL;
	struct xen *xen = NULL;
	int rc = 1;

	if (!base)
		goto out;
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || event_add(sigterm, NULL) || event_add(sigint, NULL))
		goto out;
	srv = sock_listen(d, base, sock);
	if (!srv) {
		if (errno == EADDRINUSE)
			fprintf(stderr, "xenstore-lite: %s: already in use by a running "
				"daemon (it answered a connect); not taking it over\n", sock);
		else if (errno == ENOTSOCK)
			fprintf(stderr, "xenstore-lite: %s: exists and is not a socket; "
				"not replacing it\n", sock);
		else
			fprintf(stderr, "xenstore-lite: %s: %s\n", sock, strerror(errno));
		goto out;
	}
	xsd_log(d, LOG_WARN, "listening on %s", sock);
	if (start_xen(d, base, dom0, &xen) == 0) {
		rc = event_base_dispatch(base) < 0;
		xsd_log(d, LOG_WARN, "shutting down");
	}
	if (xen)
		xen_close(xen);
	sock_shutdown(srv);
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (base)
		event_base_free(base);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("XENSTORED_PATH");
	struct xsd d;
	bool dom0 = true;
	int rc;

	if (!sock)
		sock = DEFAULT_SOCKET;
	if (xsd_init(&d)) {
		fprintf(stderr, "xenstore-lite: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &d, &sock, &dom0);
	if (rc == 0) {
		signal(SIGPIPE, SIG_IGN);
		rc = run(&d, sock, dom0);
	} else {
		rc = rc > 0 ? 0 : rc == -2 ? 2 : 1;
	}
	if (d.logf && d.logf != stderr)
		fclose(d.logf);
	d.logf = NULL;
	xsd_fini(&d);
	return rc;
}
