/*
 * xs-domu-e2e: dom0's half of make check-dom0's XenStore end-to-end check
 * (issue 14 item 2), run in pvkit's dom0 with xenstore-lite serving.
 *
 * As a toolstack does it: creates a domU from xs_domu.elf with
 * PVKIT_DOMCTL_create_pv (libxencall), writes its /local/domain/<id> tree
 * with libxl's permissions (the home owned by dom0 and readable by the
 * domU; data/ and control/shutdown the domU's) through Debian's
 * libxenstore, introduces it (XS_INTRODUCE with the store mfn and port
 * create_pv returned: xenstore-lite maps grant reference 1 and binds the
 * port) and unpauses it. It then checks, printing one "RESULT <name> ok|fail
 * <detail>" line each: @introduceDomain fired and the domain is introduced;
 * the domU's writes over its ring arrive (data/hello, data/ready); a dom0
 * write fires the domU's watch (it answers in data/done); what it must not
 * write is absent; when it powers off, @releaseDomain fires (shutdown,
 * VIRQ_DOM_EXC + getdomaininfo) and it stays introduced; destroying it makes
 * xenstore-lite release it (not introduced, its own nodes deleted,
 * @releaseDomain again), and once xenstore-lite has unmapped its page the
 * domain is freed (getdomaininfo no longer finds it). Exit status 0 if all
 * passed.
 */
#define __XEN_TOOLS__ 1 /* struct xen_domctl is for control tools */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xencall.h>
#include <xenstore.h>
#include <xen/xen.h>
#include <xen/domctl.h>
#include "public/pvkit.h"

#define KERNEL "/usr/lib/pvkit/xs_domu.elf"
#define DOMU_KB 8192

static int passed, failed;
static xencall_handle *xcall;
static struct xen_domctl *dc;	/* hypercall-safe */
static struct xs_handle *xs;

/* Prints one RESULT line and counts it. */
static void result(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s %s ", name, ok ? "ok" : "fail");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	ok ? passed++ : failed++;
}

/* A domctl cmd on domid (dc->u set by the caller). 0 or -errno. */
static int domctl(uint32_t cmd, uint32_t domid)
{
	dc->cmd = cmd;
	dc->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	dc->domain = (domid_t)domid;
	return xencall1(xcall, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)dc) < 0 ? -errno : 0;
}

/* getdomaininfo flags of domid; -ESRCH when it no longer exists. */
static long dom_flags(uint32_t domid)
{
	int rc;

	memset(dc, 0, sizeof(*dc));
	if ((rc = domctl(XEN_DOMCTL_getdomaininfo, domid)))
		return rc;
	return dc->u.getdomaininfo.domain == domid ? (long)dc->u.getdomaininfo.flags : -ESRCH;
}

/* Creates the domU; its id, store mfn and port in the out arguments. */
static int create(uint32_t *domid, unsigned long *mfn, unsigned *port)
{
	struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&dc->u;
	FILE *f = fopen(KERNEL, "rb");
	size_t size, pages;
	char *img, *cmd;
	int rc;

	if (!f)
		return -errno;
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	rewind(f);
	pages = (size + 4095) / 4096 + 1;
	img = xencall_alloc_buffer_pages(xcall, pages);
	if (!img || fread(img, 1, size, f) != size) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	cmd = img + (pages - 1) * 4096;
	strcpy(cmd, "xs_domu");
	memset(dc, 0, sizeof(*dc));
	c->kernel = (uint64_t)(uintptr_t)img;
	c->kernel_size = size;
	c->cmdline = (uint64_t)(uintptr_t)cmd;
	c->mem_kb = DOMU_KB;
	c->max_vcpus = 1;
	rc = domctl(PVKIT_DOMCTL_create_pv, 0);
	if (rc == 0) {
		*domid = dc->domain;
		*mfn = c->store_mfn;
		*port = c->store_port;
	}
	xencall_free_buffer_pages(xcall, img, pages);
	return rc;
}

/* Writes path = value with the given permissions (n entries, or none). */
static bool mknode(const char *path, const char *value, struct xs_permissions *perms, unsigned n)
{
	return xs_write(xs, XBT_NULL, path, value, strlen(value)) &&
	       (!n || xs_set_permissions(xs, XBT_NULL, path, perms, n));
}

/* The tree libxl writes for a new domain, with its permissions. */
static bool xl_tree(uint32_t domid)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE }, { domid, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { domid, XS_PERM_NONE } };
	char home[64], p[128], id[16];
	bool ok;

	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	snprintf(id, sizeof(id), "%u", domid);
	ok = mknode(home, "", ro, 2);
	snprintf(p, sizeof(p), "%s/name", home);
	ok &= mknode(p, "xs-domu", NULL, 0);
	snprintf(p, sizeof(p), "%s/domid", home);
	ok &= mknode(p, id, NULL, 0);
	snprintf(p, sizeof(p), "%s/control", home);
	ok &= mknode(p, "", ro, 2);
	snprintf(p, sizeof(p), "%s/control/shutdown", home);
	ok &= mknode(p, "", rw, 1);
	snprintf(p, sizeof(p), "%s/data", home);
	ok &= mknode(p, "", rw, 1);
	return ok;
}

/* Waits up to ms for a watch event on path; true if one came. */
static bool wait_event(const char *path, int ms)
{
	struct timespec t0, t;
	struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char **ev;
		long left;

		while ((ev = xs_check_watch(xs))) {
			bool hit = strcmp(ev[XS_WATCH_PATH], path) == 0;

			free(ev);
			if (hit)
				return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
	}
}

/* Reads path (NULL if absent); the caller frees. */
static char *rd(const char *path)
{
	unsigned len;

	return xs_read(xs, XBT_NULL, path, &len);
}

/* Waits up to ms for path to hold a value (any if want is NULL). */
static char *wait_value(const char *path, const char *want, int ms)
{
	for (int i = 0; i < ms / 50; i++) {
		char *v = rd(path);

		if (v && (!want || strcmp(v, want) == 0))
			return v;
		free(v);
		usleep(50000);
	}
	return NULL;
}

/* Waits up to ms until xenstore-lite reports domid introduced == want. */
static bool wait_introduced(uint32_t domid, bool want, int ms)
{
	for (int i = 0; i < ms / 50; i++) {
		if (xs_is_domain_introduced(xs, domid) == want)
			return true;
		usleep(50000);
	}
	return false;
}

int main(void)
{
	uint32_t domid = 0;
	unsigned long mfn = 0;
	unsigned port = 0;
	char p[128], *v;
	long fl;
	int rc, i;

	xcall = xencall_open(NULL, 0);
	dc = xcall ? xencall_alloc_buffer(xcall, sizeof(*dc)) : NULL;
	xs = xs_open(0);
	if (!dc || !xs) {
		result("xs_domu_create", false, "xencall/xs_open: %s", strerror(errno));
		return 1;
	}
	rc = create(&domid, &mfn, &port);
	result("xs_domu_create", rc == 0, "domid %u store mfn %lu port %u (%s)", domid, mfn,
	       port, rc ? strerror(-rc) : "paused");
	if (rc)
		return 1;

	xs_watch(xs, "@introduceDomain", "i");
	xs_watch(xs, "@releaseDomain", "r");
	wait_event("@introduceDomain", 2000);	/* the events on registration */
	wait_event("@releaseDomain", 2000);
	bool tree = xl_tree(domid);
	bool intro = xs_introduce_domain(xs, domid, mfn, port);
	bool ev = wait_event("@introduceDomain", 5000);
	result("xs_domu_introduce", tree && intro && ev && xs_is_domain_introduced(xs, domid),
	       "tree %d introduce %d @introduceDomain %d", tree, intro, ev);

	rc = domctl(XEN_DOMCTL_unpausedomain, domid);
	snprintf(p, sizeof(p), "/local/domain/%u/data/ready", domid);
	v = rc ? NULL : wait_value(p, "1", 60000);
	free(v);
	snprintf(p, sizeof(p), "/local/domain/%u/data/hello", domid);
	char *hello = rd(p);
	result("xs_domu_ring", v && hello && strcmp(hello, "from domU") == 0,
	       "unpause %d; the domU wrote data/hello = '%s' over its ring", rc,
	       hello ? hello : "(none)");
	free(hello);

	snprintf(p, sizeof(p), "/local/domain/%u/data/go", domid);
	bool wrote = xs_write(xs, XBT_NULL, p, "42", 2);
	snprintf(p, sizeof(p), "/local/domain/%u/data/done", domid);
	v = wait_value(p, "42", 30000);
	result("xs_domu_watch", wrote && v, "dom0's write of data/go fired the domU's watch: "
	       "data/done = '%s'", v ? v : "(none)");
	free(v);

	snprintf(p, sizeof(p), "/local/domain/%u/data/end", domid);
	v = wait_value(p, "1", 120000);
	char *evil0 = rd("/local/domain/0/evil"), *evil = rd("/evil");
	snprintf(p, sizeof(p), "/local/domain/%u/name", domid);
	char *name = rd(p);
	result("xs_domu_perms", v && !evil0 && !evil && name && strcmp(name, "xs-domu") == 0,
	       "domU finished (data/end %s); /local/domain/0/evil %s, /evil %s, name '%s'",
	       v ? "written" : "missing", evil0 ? "EXISTS" : "absent", evil ? "EXISTS" : "absent",
	       name ? name : "(none)");
	free(v), free(evil0), free(evil), free(name);

	/* It powers off: VIRQ_DOM_EXC, getdomaininfo says shutdown. */
	for (i = 0; i < 600 && ((fl = dom_flags(domid)) < 0 || !(fl & XEN_DOMINF_shutdown)); i++)
		usleep(50000);
	ev = wait_event("@releaseDomain", 5000);
	result("xs_domu_shutdown", fl >= 0 && (fl & XEN_DOMINF_shutdown) && ev &&
	       xs_is_domain_introduced(xs, domid),
	       "flags %#lx, @releaseDomain %d, still introduced", fl, ev);

	/* Destroyed: xenstore-lite releases it and unmaps its page, after which
	 * the hypervisor can free the domain. */
	rc = domctl(XEN_DOMCTL_destroydomain, domid);
	bool released = wait_introduced(domid, false, 10000);
	ev = wait_event("@releaseDomain", 5000);
	snprintf(p, sizeof(p), "/local/domain/%u/data", domid);
	char *data = rd(p);
	snprintf(p, sizeof(p), "/local/domain/%u", domid);
	char *home = rd(p);
	for (i = 0; i < 100 && dom_flags(domid) != -ESRCH; i++) {
		domctl(XEN_DOMCTL_destroydomain, domid);
		usleep(50000);
	}
	fl = dom_flags(domid);
	result("xs_domu_destroy", rc == 0 && released && ev && !data && home && fl == -ESRCH,
	       "destroy %d; released %d, @releaseDomain %d, data/ %s, home %s, domain %s", rc,
	       released, ev, data ? "LEFT" : "deleted", home ? "kept (dom0's)" : "MISSING",
	       fl == -ESRCH ? "freed" : "NOT FREED");
	free(data), free(home);
	xs_rm(xs, XBT_NULL, p);	/* as xl does */

	xs_close(xs);
	xencall_free_buffer(xcall, dc);
	xencall_close(xcall);
	printf("xs-domu-e2e: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
