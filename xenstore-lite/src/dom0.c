/*
 * dom0: the initial domain's store ring (see dom0.h). One libevent event
 * watches libxenevtchn's descriptor; each event is read with
 * xenevtchn_pending, unmasked at once (so that a notification arriving
 * while the ring is served makes the descriptor readable again rather than
 * being lost) and then the ring is served until nothing moves.
 */
#include "dom0.h"

#include <errno.h>

#ifdef XSL_HAVE_XENEVTCHN

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include "ring.h"

#define DOM0_PAGE 4096

struct dom0_ring {
	struct xsd *d;
	xenevtchn_handle *xce;
	struct xenstore_domain_interface *intf;
	struct ring_conn *ring;
	struct event *ev;
	evtchn_port_t remote, local;
	bool broken_logged;
};

/* Read the decimal port in path into *port. 0, or -errno (-EINVAL if the
 * file does not hold a port number). */
static int read_port(const char *path, evtchn_port_t *port)
{
	char buf[32], *end;
	unsigned long v;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (end == buf || errno || (*end && *end != '\n') || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*port = (evtchn_port_t)v;
	return 0;
}

/* Map the one-page file path shared and writable into *intf. 0 or -errno. */
static int map_page(const char *path, struct xenstore_domain_interface **intf)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, DOM0_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	*intf = p;
	return 0;
}

/* Ring transport hook: signal the kernel's xenbus. */
static void dom0_notify(void *arg)
{
	struct dom0_ring *r = arg;

	if (xenevtchn_notify(r->xce, r->local) < 0)
		xsd_log(r->d, LOG_ERR, "dom0 ring: notify port %u: %s", r->local,
			strerror(errno));
}

/* Serve the ring once; log (once until it recovers) when it is broken. */
static void dom0_service(struct dom0_ring *r)
{
	if (ring_service(r->ring) == 0) {
		r->broken_logged = false;
	} else if (!r->broken_logged) {
		xsd_log(r->d, LOG_ERR, "dom0 ring: broken (error %u); served again "
			"if the kernel reconnects", r->intf->error);
		r->broken_logged = true;
	}
}

/* libevent: the event-channel descriptor is readable. */
static void dom0_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct dom0_ring *r = arg;
	xenevtchn_port_or_error_t port = xenevtchn_pending(r->xce);

	(void)fd; (void)what;
	if (port < 0) {
		xsd_log(r->d, LOG_ERR, "dom0 ring: xenevtchn_pending: %s", strerror(errno));
		return;
	}
	if (xenevtchn_unmask(r->xce, (evtchn_port_t)port) < 0)
		xsd_log(r->d, LOG_ERR, "dom0 ring: unmask port %d: %s", port, strerror(errno));
	if ((evtchn_port_t)port == r->local)
		dom0_service(r);
}

/* Undo whatever of dom0_ring_start's setup r holds, and free r. */
static void dom0_release(struct dom0_ring *r)
{
	if (r->ev)
		event_free(r->ev);
	if (r->ring)
		ring_detach(r->ring);
	if (r->xce) {
		if (r->local)
			xenevtchn_unbind(r->xce, r->local);
		xenevtchn_close(r->xce);
	}
	if (r->intf)
		munmap(r->intf, DOM0_PAGE);
	free(r);
}

int dom0_ring_start(struct xsd *d, struct event_base *base, const char *xenfs_dir,
		    struct dom0_ring **out)
{
	char kva[256], port[256];
	struct dom0_ring *r;
	xenevtchn_port_or_error_t local;
	int err;

	if (snprintf(kva, sizeof(kva), "%s/xsd_kva", xenfs_dir) >= (int)sizeof(kva) ||
	    snprintf(port, sizeof(port), "%s/xsd_port", xenfs_dir) >= (int)sizeof(port))
		return -ENAMETOOLONG;
	if (access(kva, F_OK) < 0)
		return -ENOENT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->d = d;
	if ((err = read_port(port, &r->remote)) < 0 || (err = map_page(kva, &r->intf)) < 0)
		goto fail;
	r->xce = xenevtchn_open(NULL, 0);
	if (!r->xce) {
		err = -errno;
		goto fail;
	}
	local = xenevtchn_bind_interdomain(r->xce, 0, r->remote);
	if (local < 0) {
		err = -errno;
		goto fail;
	}
	r->local = (evtchn_port_t)local;
	r->ring = ring_attach(d, 0, r->intf, dom0_notify, r);
	r->ev = event_new(base, xenevtchn_fd(r->xce), EV_READ | EV_PERSIST, dom0_on_event, r);
	if (!r->ring || !r->ev) {
		err = -ENOMEM;
		goto fail;
	}
	if (event_add(r->ev, NULL) < 0) {
		err = -EIO;
		goto fail;
	}
	xsd_log(d, LOG_WARN, "serving dom0's ring (%s, port %u bound as %u)", kva,
		r->remote, r->local);
	dom0_service(r);
	/* Linux's xenbus (XS_LOCAL) probes on the first event from the store. */
	dom0_notify(r);
	*out = r;
	return 0;
fail:
	if (err == 0)
		err = -EIO;
	dom0_release(r);
	return err;
}

void dom0_ring_stop(struct dom0_ring *r)
{
	dom0_release(r);
}

#else /* !XSL_HAVE_XENEVTCHN */

int dom0_ring_start(struct xsd *d, struct event_base *base, const char *xenfs_dir,
		    struct dom0_ring **out)
{
	(void)d; (void)base; (void)xenfs_dir; (void)out;
	return -ENOSYS;
}

void dom0_ring_stop(struct dom0_ring *r)
{
	(void)r;
}

#endif
