/*
 * test_domains: domains served through the hypervisor table (domain.c with
 * a fake hyp.h: pages in memory, ports counted, getdomaininfo answered from
 * a table), with guests written like Linux's xenbus (guest.h).
 * Covered: INTRODUCE maps, binds and answers what the guest queued before;
 * a domU's connection acts as its domid (permissions as xl sets them up,
 * nothing created by the daemon); INTRODUCE errors leave nothing behind;
 * re-INTRODUCE rebinds and resets; RELEASE and death (VIRQ_DOM_EXC with
 * dying, vanished and shut-down domains, RESUME) unmap, unbind, drop
 * watches and transactions, delete what the domain owned and fire
 * @releaseDomain; dom0's ring through the same path; hostile rings (bad
 * types, lengths, counts and indices, random scribbling) break only
 * themselves, and one that never reads its replies is dropped at its
 * output quota; a flooding guest is served in bounded rounds while others
 * are served; per-domain quotas answer ENOSPC / E2BIG on the ring.
 * Invariant checked at teardown: every page mapped and port bound was
 * given back exactly once.
 */
#include "guest.h"
#include "ring.h"
#define __XEN_TOOLS__ 1
#include <xen/domctl.h>

#define NDOM 8
#define NPORT 64
#define T(name) static void name(void **state)

struct fake {
	struct hyp hyp;
	struct xenstore_domain_interface page[NDOM];
	struct guest g[NDOM];
	bool mapped[NDOM];
	enum hyp_map_kind kind[NDOM];
	int map_err, bind_err;		/* the next map / bind fails so */
	bool bound[NPORT];
	unsigned port_dom[NPORT], remote[NPORT], next_port;
	int info_err[NDOM];
	uint32_t flags[NDOM];
	void (*on_notify)(struct fake *f, unsigned domid);
	size_t flood_pos;		/* flood(): offset in its current message */
};

static int f_map(void *ctx, unsigned domid, unsigned long mfn, struct hyp_page *pg)
{
	struct fake *f = ctx;
	int err = f->map_err;

	(void)mfn;
	assert_true(domid < NDOM);
	assert_false(f->mapped[domid]);
	f->map_err = 0;
	if (err)
		return err;
	f->mapped[domid] = true;
	pg->intf = &f->page[domid];
	pg->kind = f->kind[domid] = domid ? HYP_MAP_GRANT : HYP_MAP_XENFS;
	return 0;
}

static void f_unmap(void *ctx, unsigned domid, const struct hyp_page *pg)
{
	struct fake *f = ctx;

	assert_true(f->mapped[domid]);
	assert_ptr_equal(pg->intf, &f->page[domid]);
	assert_int_equal(pg->kind, f->kind[domid]);
	f->mapped[domid] = false;
}

static long f_bind(void *ctx, unsigned domid, unsigned remote)
{
	struct fake *f = ctx;
	int err = f->bind_err;
	unsigned p = f->next_port++;

	f->bind_err = 0;
	if (err)
		return err;
	assert_true(p < NPORT);
	f->bound[p] = true;
	f->port_dom[p] = domid;
	f->remote[p] = remote;
	return p;
}

static void f_unbind(void *ctx, unsigned local)
{
	struct fake *f = ctx;

	assert_true(local < NPORT && f->bound[local]);
	f->bound[local] = false;
}

static void f_notify(void *ctx, unsigned local)
{
	struct fake *f = ctx;

	assert_true(local < NPORT && f->bound[local]);
	f->g[f->port_dom[local]].notified++;
	if (f->on_notify)
		f->on_notify(f, f->port_dom[local]);
}

static int f_info(void *ctx, unsigned domid, uint32_t *flags)
{
	struct fake *f = ctx;

	assert_true(domid < NDOM);
	*flags = f->flags[domid];
	return f->info_err[domid];
}

static const struct hyp_ops fake_ops = {
	.map = f_map, .unmap = f_unmap, .bind = f_bind, .unbind = f_unbind,
	.notify = f_notify, .info = f_info,
};

struct fx {
	struct world *w;
	struct fake f;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	unsigned i;

	assert_non_null(x);
	x->w = world_new();	/* d1, d2 introduced before: records only */
	x->f.hyp = (struct hyp){ .ops = &fake_ops, .ctx = &x->f };
	x->f.next_port = 10;
	for (i = 0; i < NDOM; i++)
		x->f.g[i].in = &x->f.page[i];
	x->w->d.hyp = &x->f.hyp;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	unsigned i;

	world_free(x->w);
	for (i = 0; i < NDOM; i++)
		assert_false(x->f.mapped[i]);
	for (i = 0; i < NPORT; i++)
		assert_false(x->f.bound[i]);
	free(x);
	return 0;
}

/* The local port of connected domain domid. */
static unsigned port_of(struct fx *x, unsigned domid)
{
	const struct domain *dom = domain_find(&x->w->d, domid);

	assert_non_null(dom);
	assert_non_null(dom->ring);
	return dom->local_port;
}

/* The connection acting for domid (NULL if none). */
static struct conn *conn_of(struct fx *x, unsigned domid)
{
	struct conn *c;

	for (c = x->w->d.conns; c; c = c->next)
		if (c->who.domid == domid && c->tp)
			return c;
	return NULL;
}

/* The step scripts of domains.txt, read once by main. */
static struct scripts scripts;

/* Run the script called name of domains.txt on x's world. */
static void script(struct fx *x, const char *name)
{
	run_script(x->w, &scripts, name);
}

/* A dom0 socket request, as a step built at run time. */
static void dom0_req(struct fx *x, uint32_t type, const char *args, const char *want, int line)
{
	const struct step s = { 0, type, 0, args, want };

	run_step(x->w, &s, line);
}

/* Guest domid queues one request (args: '|' for NUL, as in steps); one
 * larger than the free space is written as the daemon makes room. */
static void g_send(struct fx *x, unsigned domid, uint32_t type, const char *args)
{
	char body[XENSTORE_PAYLOAD_MAX + 1], buf[XENSTORE_PAYLOAD_MAX + 64];
	uint32_t n = unbar(args, body, type != XS_WRITE);
	size_t len = g_msg(buf, type, 77, body, n), done = 0;

	while ((done += g_write(&x->f.g[domid], buf + done, len - done)) < len)
		domain_service_port(&x->w->d, port_of(x, domid));
}

/* Guest domid sends a request, signals, and checks the reply. */
static void g_call(struct fx *x, unsigned domid, uint32_t type, const char *args,
		   const char *want, int line)
{
	struct reply r;

	g_send(x, domid, type, args);
	domain_service_port(&x->w->d, port_of(x, domid));
	g_reply(&x->f.g[domid], &r);
	check_reply(x->w, &r, want, line);
}

/* The next message guest domid has is the watch event "path|token". */
static void g_event(struct fx *x, unsigned domid, const char *ev)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t n = unbar(ev, buf, 1);
	struct reply r;

	g_reply(&x->f.g[domid], &r);
	assert_int_equal(r.h.type, XS_WATCH_EVENT);
	assert_int_equal(r.h.len, n);
	assert_memory_equal(r.body, buf, n);
}

/* The guest of domid discards every reply the daemon has for it. */
static void g_drain(struct fx *x, unsigned domid)
{
	struct xenstore_domain_interface *in = &x->f.page[domid];

	do {
		in->rsp_cons = in->rsp_prod;
		domain_service_port(&x->w->d, port_of(x, domid));
	} while (in->rsp_cons != in->rsp_prod);
}

/* INTRODUCE domid with remote port `port` from dom0. */
static void introduce(struct fx *x, unsigned domid, unsigned port)
{
	char a[64];

	snprintf(a, sizeof(a), "%u|%u|%u", domid, 1000 + domid, port);
	dom0_req(x, XS_INTRODUCE, a, "OK", __LINE__);
}

/* dom0 gives domid the tree xl gives it: /local/domain/N owned by dom0 and
 * readable by N, its data/ directory owned by N. */
static void xl_tree(struct fx *x, unsigned domid)
{
	char a[128];

	snprintf(a, sizeof(a), "/local/domain/%u", domid);
	dom0_req(x, XS_MKDIR, a, "OK", __LINE__);
	snprintf(a, sizeof(a), "/local/domain/%u|n0|r%u", domid, domid);
	dom0_req(x, XS_SET_PERMS, a, "OK", __LINE__);
	snprintf(a, sizeof(a), "/local/domain/%u/data", domid);
	dom0_req(x, XS_MKDIR, a, "OK", __LINE__);
	snprintf(a, sizeof(a), "/local/domain/%u/data|n%u", domid, domid);
	dom0_req(x, XS_SET_PERMS, a, "OK", __LINE__);
}

T(introduce_serves_queued_requests)
{
	struct fx *x = *state;
	struct reply r;
	unsigned p;

	script(x, "watch.introduce");
	/* Linux's xenbus writes before the store knows the domain. */
	g_send(x, 3, XS_GET_DOMAIN_PATH, "3");
	introduce(x, 3, 5);
	assert_true(x->f.mapped[3]);
	p = port_of(x, 3);
	assert_true(x->f.bound[p]);
	assert_int_equal(x->f.port_dom[p], 3);
	assert_int_equal(x->f.remote[p], 5);
	assert_true(x->f.g[3].notified > 0);
	g_reply(&x->f.g[3], &r);
	assert_int_equal(r.h.type, XS_GET_DOMAIN_PATH);
	assert_string_equal(r.body, "/local/domain/3");
	script(x, "introduced.3");
	/* The daemon creates nothing (xenstored does not; xl writes the tree);
	 * the absence is EACCES, since d3 may not read /local/domain. */
	g_call(x, 3, XS_READ, "/local/domain/3", "E:EACCES", __LINE__);
	g_call(x, 3, XS_WRITE, "name|x", "E:EACCES", __LINE__);
	g_call(x, 3, XS_READ, "/local/domain/1", "E:EACCES", __LINE__);
	xl_tree(x, 3);
	g_call(x, 3, XS_READ, "/local/domain/3", "", __LINE__);
	g_call(x, 3, XS_READ, "missing", "E:ENOENT", __LINE__);
	g_call(x, 3, XS_READ, "/local/domain/1/missing", "E:EACCES", __LINE__);
	g_call(x, 3, XS_DIRECTORY, "/local/domain/1/a/b", "E:EACCES", __LINE__);
	g_call(x, 3, XS_WRITE, "name|x", "E:EACCES", __LINE__);
	g_call(x, 3, XS_WRITE, "data/a|1", "OK", __LINE__);
	g_call(x, 3, XS_GET_PERMS, "data/a", "n3|", __LINE__);
	g_call(x, 3, XS_SET_PERMS, "data/a|n0", "E:EPERM", __LINE__);
	g_call(x, 3, XS_WRITE, "/local/domain/1/x|1", "E:EACCES", __LINE__);
	g_call(x, 3, XS_INTRODUCE, "4|1|1", "E:EACCES", __LINE__);
	g_call(x, 3, XS_RELEASE, "1", "E:EACCES", __LINE__);
	g_call(x, 3, XS_CONTROL, "check", "E:EACCES", __LINE__);
	g_call(x, 3, XSL_SET_QUOTA, "3|nodes|0", "E:EACCES", __LINE__);
	g_call(x, 3, XS_WATCH, "@releaseDomain|r", "OK", __LINE__);
	g_event(x, 3, "@releaseDomain|r");
	/* ... but special events reach privileged connections only. */
	dom0_req(x, XS_RELEASE, "1", "OK", __LINE__);
	domain_service_port(&x->w->d, port_of(x, 3));
	assert_int_equal(x->f.page[3].rsp_prod, x->f.page[3].rsp_cons);
}

T(introduce_errors_leave_nothing)
{
	struct fx *x = *state;
	unsigned p;

	script(x, "watch.introduce");
	x->f.map_err = -ENOENT;
	dom0_req(x, XS_INTRODUCE, "4|1|5", "E:ENOENT", __LINE__);
	x->f.bind_err = -EBUSY;
	dom0_req(x, XS_INTRODUCE, "4|1|5", "E:EBUSY", __LINE__);
	assert_false(x->f.mapped[4]);
	assert_null(conn_of(x, 4));
	script(x, "refused.4");
	/* Re-INTRODUCE (xenstored 4.17): rebinds, resets, announces nothing. */
	introduce(x, 4, 5);
	script(x, "introduced");
	p = port_of(x, 4);
	g_call(x, 4, XS_WATCH, "/|w", "OK", __LINE__);
	g_event(x, 4, "/|w");
	assert_int_equal(conn_of(x, 4)->nwatches, 1);
	introduce(x, 4, 6);
	script(x, "quiet");
	assert_false(x->f.bound[p]);
	assert_int_equal(x->f.remote[port_of(x, 4)], 6);
	assert_int_equal(conn_of(x, 4)->nwatches, 0);
	assert_int_equal(x->f.page[4].req_prod, 0);
	assert_int_equal(x->f.page[4].rsp_prod, 0);
	g_call(x, 4, XS_GET_DOMAIN_PATH, "4", "/local/domain/4|", __LINE__);
	/* A failed rebind leaves the domain introduced without a port. */
	x->f.bind_err = -EINVAL;
	introduce(x, 4, 7);
	assert_int_equal(domain_find(&x->w->d, 4)->local_port, 0);
	dom0_req(x, XS_RELEASE, "4", "OK", __LINE__);
}

T(release_cleans_up)
{
	struct fx *x = *state;
	unsigned p;

	introduce(x, 3, 5);
	xl_tree(x, 3);
	script(x, "release.watch");
	g_call(x, 3, XS_WRITE, "data/a|1", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/b/c|2", "OK", __LINE__);
	g_call(x, 3, XS_WATCH, "data|w", "OK", __LINE__);
	g_event(x, 3, "data|w");
	g_call(x, 3, XS_TRANSACTION_START, "", "*", __LINE__);
	script(x, "release.drain");
	assert_int_equal(conn_of(x, 3)->ntxns, 1);
	p = port_of(x, 3);
	dom0_req(x, XS_RELEASE, "3", "OK", __LINE__);
	assert_false(x->f.mapped[3]);
	assert_false(x->f.bound[p]);
	assert_null(conn_of(x, 3));
	assert_int_equal(x->w->d.store.owned[3], 0);
	script(x, "release.after");
	/* A new domain with that id starts afresh. */
	x->f.page[3] = (struct xenstore_domain_interface){ 0 };
	introduce(x, 3, 5);
	assert_int_equal(conn_of(x, 3)->nwatches, 0);
}

T(death_through_virq)
{
	struct fx *x = *state;

	introduce(x, 3, 5);
	introduce(x, 4, 5);
	introduce(x, 5, 5);
	script(x, "watch.release");
	domain_check(&x->w->d);
	script(x, "quiet");
	/* Shut down (or crashed): announced once, until RESUME. */
	x->f.flags[3] = XEN_DOMINF_shutdown;
	domain_check(&x->w->d);
	script(x, "released.one");
	domain_check(&x->w->d);
	script(x, "quiet");
	dom0_req(x, XS_IS_DOMAIN_INTRODUCED, "3", "T|", __LINE__);
	dom0_req(x, XS_RESUME, "3", "OK", __LINE__);
	dom0_req(x, XS_RESUME, "0", "E:EINVAL", __LINE__);
	domain_check(&x->w->d);
	script(x, "released.one");
	/* Dying, or gone (getdomaininfo answers another domain: ESRCH). */
	x->f.flags[4] = XEN_DOMINF_dying;
	x->f.info_err[5] = -ESRCH;
	domain_check(&x->w->d);
	script(x, "released.two");
	assert_false(x->f.mapped[4]);
	assert_false(x->f.mapped[5]);
	assert_null(domain_find(&x->w->d, 4));
	assert_null(domain_find(&x->w->d, 5));
	/* The hypervisor not answering is not death. */
	x->f.info_err[3] = -EACCES;
	domain_check(&x->w->d);
	script(x, "quiet");
	assert_true(x->f.mapped[3]);
	/* dom0 is never asked about, never released. */
	assert_int_equal(domain_connect_dom0(&x->w->d, 3), 0);
	x->f.info_err[0] = -ESRCH;
	domain_check(&x->w->d);
	assert_true(x->f.mapped[0]);
}

T(dom0_ring_same_path)
{
	struct fx *x = *state;
	struct xsd hosted;

	assert_int_equal(domain_connect_dom0(&x->w->d, 9), 0);
	assert_true(x->f.mapped[0]);
	assert_int_equal(x->f.kind[0], HYP_MAP_XENFS);
	assert_int_equal(x->f.remote[port_of(x, 0)], 9);
	assert_int_equal(domain_connect_dom0(&x->w->d, 9), -EEXIST);
	g_call(x, 0, XS_WRITE, "/x|1", "OK", __LINE__);
	g_call(x, 0, XS_GET_PERMS, "/x", "n0|", __LINE__);
	g_call(x, 0, XS_WRITE, "control/feature-poweroff|1", "OK", __LINE__);
	dom0_req(x, XS_READ, "/local/domain/0/control/feature-poweroff", "1", __LINE__);
	g_call(x, 0, XS_INTRODUCE, "3|1|5", "OK", __LINE__);
	assert_true(x->f.mapped[3]);
	assert_int_equal(xsd_init(&hosted), 0);
	assert_int_equal(domain_connect_dom0(&hosted, 9), -ENOSYS);
	xsd_fini(&hosted);
}

/* Guest domid asks to reconnect, as Linux does after kexec; the daemon
 * empties the ring and answers CONNECTED. */
static void reconnect(struct fx *x, unsigned domid)
{
	struct xenstore_domain_interface *in = &x->f.page[domid];

	in->connection = XENSTORE_RECONNECT;
	domain_service_port(&x->w->d, port_of(x, domid));
	assert_int_equal(in->connection, XENSTORE_CONNECTED);
	assert_int_equal(in->error, XENSTORE_ERROR_NONE);
	assert_int_equal(in->req_prod, 0);
}

T(hostile_rings_break_only_themselves)
{
	struct fx *x = *state;
	struct xenstore_domain_interface *in;
	struct xsd_sockmsg h = { .type = XS_WRITE, .len = XENSTORE_PAYLOAD_MAX + 1 };
	char many[600];
	size_t i, n;

	introduce(x, 3, 5);
	introduce(x, 4, 5);
	xl_tree(x, 3);
	in = &x->f.page[3];
	/* Bad types and arguments: an error each, the ring goes on. */
	g_call(x, 3, XS_TYPE_COUNT + 50, "x", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_WATCH_EVENT, "a|b", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_ERROR, "EINVAL", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_INVALID, "", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_WATCH, "onlyone", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_READ, "", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_READ, "//bad//", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_DIRECTORY_PART, "data|4294967295", "*", __LINE__);
	g_call(x, 3, XS_DIRECTORY_PART, "data|99999999999999999999999", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_TRANSACTION_END, "T", "E:ENOENT", __LINE__);
	n = (size_t)snprintf(many, sizeof(many), "data");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "|r%zu", i);
	g_call(x, 3, XS_SET_PERMS, many, "E:ENOSPC", __LINE__);
	g_call(x, 3, XS_SET_PERMS, "data|n3|zz", "E:EINVAL", __LINE__);
	g_call(x, 3, XS_WATCH, "data|w", "OK", __LINE__);
	g_event(x, 3, "data|w");
	/* An oversized message: PROTO, state dropped, d4 unaffected. */
	g_write(&x->f.g[3], &h, sizeof(h));
	assert_int_equal(domain_service_port(&x->w->d, port_of(x, 3)), 0);
	assert_int_equal(in->error, XENSTORE_ERROR_PROTO);
	assert_int_equal(conn_of(x, 3)->nwatches, 0);
	g_call(x, 4, XS_GET_DOMAIN_PATH, "4", "/local/domain/4|", __LINE__);
	/* The guest reconnects (Linux on kexec) and is served again. */
	reconnect(x, 3);
	g_call(x, 3, XS_GET_DOMAIN_PATH, "3", "/local/domain/3|", __LINE__);
	/* Indices beyond the ring, either way. */
	in->req_prod = in->req_cons + XENSTORE_RING_SIZE + 1;
	domain_service_port(&x->w->d, port_of(x, 3));
	assert_int_equal(in->error, XENSTORE_ERROR_RINGIDX);
	reconnect(x, 3);
	g_call(x, 3, XS_GET_DOMAIN_PATH, "3", "/local/domain/3|", __LINE__);
	in->rsp_cons = in->rsp_prod + 3 * XENSTORE_RING_SIZE;
	g_send(x, 3, XS_READ, "data");
	domain_service_port(&x->w->d, port_of(x, 3));
	assert_int_equal(in->error, XENSTORE_ERROR_RINGIDX);
	/* Random scribbling: the daemon survives, keeps its invariants, never
	 * writes the guest's own indices, and d4 is still served. */
	srand(14);
	for (i = 0; i < 3000; i++) {
		uint32_t req_prod, rsp_cons, rsp_prod;
		bool reset;
		char msg[64];

		switch (rand() % 6) {
		case 0: in->req_prod += (uint32_t)rand() % 64; break;
		case 1: in->rsp_cons = in->rsp_prod - (uint32_t)rand() % 2048; break;
		case 2: in->connection = (uint32_t)rand() % 3; break;
		case 3:
			n = g_msg(msg, (uint32_t)rand() % (XS_TYPE_COUNT + 2), 1, "data\0x", 7);
			g_write(&x->f.g[3], msg, n);
			break;
		default:
			in->req[rand() % XENSTORE_RING_SIZE] = (char)rand();
			in->req[rand() % XENSTORE_RING_SIZE] = (char)(rand() % 4);
		}
		req_prod = in->req_prod;
		rsp_cons = in->rsp_cons;
		rsp_prod = in->rsp_prod;
		reset = in->connection == XENSTORE_RECONNECT;
		domain_service_port(&x->w->d, port_of(x, 3));
		if (reset)
			continue;
		assert_int_equal(in->req_prod, req_prod);
		assert_int_equal(in->rsp_cons, rsp_cons);
		assert_true(in->rsp_prod == rsp_prod ||
			    in->rsp_prod - in->rsp_cons <= XENSTORE_RING_SIZE);
		if (i % 500 == 0)
			assert_int_equal(store_check(&x->w->d.store), 0);
	}
	g_drain(x, 4);
	g_call(x, 4, XS_GET_DOMAIN_PATH, "4", "/local/domain/4|", __LINE__);
	/* A guest that never reads its replies is dropped at its output
	 * quota, and served no more; the others are. */
	introduce(x, 5, 5);
	dom0_req(x, XSL_SET_QUOTA, "5|output-buffer|100", "OK", __LINE__);
	for (i = 0; i < 50; i++)
		g_send(x, 5, XS_GET_DOMAIN_PATH, "5");
	domain_service_port(&x->w->d, port_of(x, 5));
	assert_true(conn_of(x, 5)->closing);
	n = x->f.page[5].rsp_prod;
	g_drain(x, 5);
	g_send(x, 5, XS_GET_DOMAIN_PATH, "5");
	assert_int_equal(domain_service_port(&x->w->d, port_of(x, 5)), 0);
	assert_int_equal(x->f.page[5].rsp_prod, n);
	g_call(x, 4, XS_GET_DOMAIN_PATH, "4", "/local/domain/4|", __LINE__);
	dom0_req(x, XS_RELEASE, "5", "OK", __LINE__);
	assert_false(x->f.mapped[5]);
}

/* A guest that answers every notification by discarding all replies and
 * filling every free byte of its request ring with an endless stream of
 * READs, split wherever the space ends: it never stops sending. */
static void flood(struct fake *f, unsigned domid)
{
	char msg[64];
	size_t n = g_msg(msg, XS_READ, 1, "data", 5);

	if (domid != 3)
		return;
	f->page[3].rsp_cons = f->page[3].rsp_prod;
	while (g_write(&f->g[3], msg + f->flood_pos, 1) == 1)
		f->flood_pos = (f->flood_pos + 1) % n;
}

/* flood()'s guest writes the rest of the message it was writing. */
static void flood_finish(struct fx *x)
{
	char msg[64];
	size_t n = g_msg(msg, XS_READ, 1, "data", 5);

	while (x->f.flood_pos) {
		if (g_write(&x->f.g[3], msg + x->f.flood_pos, 1) == 1)
			x->f.flood_pos = (x->f.flood_pos + 1) % n;
		else
			g_drain(x, 3);
	}
}

/* Request bytes of guest 3 one call of serve took (checked bounded). */
static uint32_t bounded(struct fx *x, int (*serve)(struct fx *x))
{
	uint32_t cons = x->f.page[3].req_cons, used;

	serve(x);
	used = x->f.page[3].req_cons - cons;
	assert_true(used <= RING_BUDGET + XENSTORE_RING_SIZE);
	return used;
}

static int serve_port3(struct fx *x)
{
	return domain_service_port(&x->w->d, port_of(x, 3));
}

static int serve_again(struct fx *x)
{
	return domain_service_again(&x->w->d);
}

T(flooding_guest_served_in_rounds)
{
	struct fx *x = *state;
	int i;

	introduce(x, 3, 5);
	introduce(x, 4, 5);
	xl_tree(x, 3);
	x->f.on_notify = flood;
	/* The first reply's notification starts the flood. */
	g_send(x, 3, XS_READ, "data");
	assert_int_equal(serve_port3(x), 1);
	assert_true(domain_find(&x->w->d, 3)->again);
	/* Rounds (from the loop's "again" event, or the guest's next event
	 * when the fake guest, which writes only when notified, ran dry) are
	 * bounded, and another domain is served between them. */
	for (i = 0; i < 50; i++) {
		assert_true(bounded(x, domain_find(&x->w->d, 3)->again ? serve_again : serve_port3) > 0);
		g_call(x, 4, XS_GET_DOMAIN_PATH, "4", "/local/domain/4|", __LINE__);
	}
	/* The guest stops after finishing the message it was writing. */
	x->f.on_notify = NULL;
	flood_finish(x);
	for (i = 0; serve_again(x); i++)
		assert_true(i < 10);
	g_drain(x, 3);
	g_call(x, 3, XS_GET_DOMAIN_PATH, "3", "/local/domain/3|", __LINE__);
}

T(quotas_on_the_ring)
{
	struct fx *x = *state;
	char big[2200];
	int i;

	introduce(x, 3, 5);
	xl_tree(x, 3);
	/* nodes: data/ is d3's first node */
	dom0_req(x, XSL_SET_QUOTA, "3|nodes|5", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/1|x", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/2|x", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/3|x", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/4|x", "OK", __LINE__);
	g_call(x, 3, XS_WRITE, "data/5|x", "E:ENOSPC", __LINE__);
	g_call(x, 3, XS_MKDIR, "data/6", "E:ENOSPC", __LINE__);
	g_call(x, 3, XS_WRITE, "data/4|overwrite", "OK", __LINE__);
	/* entry size: 2048 bytes of value and permissions */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "data/1|", 7);
	g_call(x, 3, XS_WRITE, big, "E:ENOSPC", __LINE__);
	big[2000] = '\0';
	g_call(x, 3, XS_WRITE, big, "OK", __LINE__);
	/* watches (E2BIG, as xenstored) */
	dom0_req(x, XSL_SET_QUOTA, "3|watches|2", "OK", __LINE__);
	g_call(x, 3, XS_WATCH, "data/1|a", "OK", __LINE__);
	g_event(x, 3, "data/1|a");
	g_call(x, 3, XS_WATCH, "data/2|b", "OK", __LINE__);
	g_event(x, 3, "data/2|b");
	g_call(x, 3, XS_WATCH, "data/3|c", "E:E2BIG", __LINE__);
	/* transactions (default 10) */
	for (i = 0; i < 10; i++)
		g_call(x, 3, XS_TRANSACTION_START, "", "*", __LINE__);
	g_call(x, 3, XS_TRANSACTION_START, "", "E:ENOSPC", __LINE__);
	/* permissions per node */
	g_call(x, 3, XS_SET_PERMS, "data/1|n3|r0|r1|r2|r4|r5", "E:ENOSPC", __LINE__);
	g_call(x, 3, XS_SET_PERMS, "data/1|n3|r0|r1|r2|r4", "OK", __LINE__);
	/* dom0 is exempt from the store quotas */
	memcpy(big, "/local/domain/3/data/1|", 23);
	big[2000] = 'v';
	dom0_req(x, XS_WRITE, big, "OK", __LINE__);
	dom0_req(x, XS_WRITE, "/local/domain/3/data/9|x", "OK", __LINE__);
	dom0_req(x, XSL_GET_QUOTA, "3|nodes", "5|", __LINE__);
}

int main(void)
{
#define FT(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	static const struct CMUnitTest tests[] = {
		FT(introduce_serves_queued_requests),
		FT(introduce_errors_leave_nothing),
		FT(release_cleans_up),
		FT(death_through_virq),
		FT(dom0_ring_same_path),
		FT(hostile_rings_break_only_themselves),
		FT(flooding_guest_served_in_rounds),
		FT(quotas_on_the_ring),
	};
	int rc;

	scripts_load("domains.txt", &scripts);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	scripts_free(&scripts);
	return rc;
}
