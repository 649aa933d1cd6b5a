/*
 * hv: hypercall wrappers over libxencall (hv.h).
 */
#define __XEN_TOOLS__ 1
#include "hv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <xencall.h>
#include <xentoollog.h>
#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/sched.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include "public/pvkit.h"
#include "util.h"

#define PAGE 4096u

struct hv {
    xencall_handle *xc;
    void *op;   /* one page for struct xen_domctl / xen_sysctl */
};

/* libxencall's messages are dropped: every failure is reported once, by the caller. */
static void quiet_message(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
                          const char *context, const char *format, va_list al)
{
    (void)l, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_destroy(struct xentoollog_logger *l)
{
    (void)l;
}

static struct xentoollog_logger quiet_logger = {.vmessage = quiet_message,
                                                .destroy = quiet_destroy};

int hv_open(struct hv **out)
{
    struct hv *h = xcalloc(1, sizeof(*h));
    h->xc = xencall_open(&quiet_logger, XENCALL_OPENFLAG_NON_REENTRANT);
    if (!h->xc) {
        int e = errno ? errno : ENOENT;
        free(h);
        return -e;
    }
    h->op = xencall_alloc_buffer_pages(h->xc, 1);
    if (!h->op) {
        xencall_close(h->xc);
        free(h);
        return -ENOMEM;
    }
    *out = h;
    return 0;
}

void hv_close(struct hv *h)
{
    if (!h)
        return;
    xencall_free_buffer_pages(h->xc, h->op, 1);
    xencall_close(h->xc);
    free(h);
}

void *hv_alloc(struct hv *h, size_t size)
{
    size_t pages = (size + PAGE - 1) / PAGE;
    void *p = xencall_alloc_buffer_pages(h->xc, pages ? pages : 1);
    if (p)
        memset(p, 0, (pages ? pages : 1) * PAGE);
    return p;
}

void hv_free(struct hv *h, void *p, size_t size)
{
    size_t pages = (size + PAGE - 1) / PAGE;
    if (p)
        xencall_free_buffer_pages(h->xc, p, pages ? pages : 1);
}

/* Runs hypercall HCALL on OP (SIZE bytes), copied through the hypercall
 * page and back. 0 or -errno. */
static int bounce_call(struct hv *h, unsigned hcall, void *op, size_t size)
{
    memcpy(h->op, op, size);
    int rc = xencall1(h->xc, hcall, (uint64_t)(uintptr_t)h->op);
    memcpy(op, h->op, size);
    return rc < 0 ? -errno : 0;
}

/* Runs domctl OP (bounce_call). */
static int domctl(struct hv *h, struct xen_domctl *op)
{
    op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    return bounce_call(h, __HYPERVISOR_domctl, op, sizeof(*op));
}

/* Runs sysctl OP (bounce_call). */
static int sysctl(struct hv *h, struct xen_sysctl *op)
{
    op->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return bounce_call(h, __HYPERVISOR_sysctl, op, sizeof(*op));
}

static void to_dominfo(const struct xen_domctl_getdomaininfo *in, uint32_t domid, struct dominfo *d)
{
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    d->running = in->flags & XEN_DOMINF_running;
    d->blocked = in->flags & XEN_DOMINF_blocked;
    d->paused = in->flags & XEN_DOMINF_paused;
    d->shutdown = in->flags & XEN_DOMINF_shutdown;
    d->dying = in->flags & XEN_DOMINF_dying;
    d->shutdown_reason = (in->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    d->mem_kb = in->tot_pages * (PAGE / 1024);
    d->max_kb = in->max_pages * (PAGE / 1024);
    d->vcpus_online = in->nr_online_vcpus;
    d->max_vcpu_id = in->max_vcpu_id;
    d->cpu_time_ns = in->cpu_time;
}

/* getdomaininfo of the first domain whose id is at least FROM. */
static int info_from(struct hv *h, uint32_t from, struct dominfo *d)
{
    struct xen_domctl op = {.cmd = XEN_DOMCTL_getdomaininfo, .domain = (domid_t)from};
    int rc = domctl(h, &op);
    if (rc)
        return rc;
    to_dominfo(&op.u.getdomaininfo, op.domain, d);
    return 0;
}

int hv_list_domains(struct hv *h, struct dominfo_list *l)
{
    struct dominfo d;
    uint32_t next = 0;
    int rc;

    while (next < DOMID_FIRST_RESERVED && (rc = info_from(h, next, &d)) == 0) {
        dominfo_list_add(l, &d);
        next = d.domid + 1;
    }
    return rc == -ESRCH || next >= DOMID_FIRST_RESERVED ? 0 : rc;
}

int hv_domain_info(struct hv *h, uint32_t domid, struct dominfo *d)
{
    int rc = info_from(h, domid, d);
    if (rc == 0 && d->domid != domid)
        return -ESRCH;
    return rc;
}

static int simple(struct hv *h, uint32_t cmd, uint32_t domid)
{
    struct xen_domctl op = {.cmd = cmd, .domain = (domid_t)domid};
    return domctl(h, &op);
}

int hv_pause(struct hv *h, uint32_t domid)
{
    return simple(h, XEN_DOMCTL_pausedomain, domid);
}

int hv_unpause(struct hv *h, uint32_t domid)
{
    return simple(h, XEN_DOMCTL_unpausedomain, domid);
}

int hv_destroy(struct hv *h, uint32_t domid, unsigned timeout_ms)
{
    int rc = simple(h, XEN_DOMCTL_destroydomain, domid);
    struct dominfo d;

    if (rc)
        return rc;
    for (unsigned waited = 0;; waited += 100) {
        if (hv_domain_info(h, domid, &d) == -ESRCH)
            return 0;
        if (waited >= timeout_ms)
            return -EBUSY;
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        rc = simple(h, XEN_DOMCTL_destroydomain, domid);
        if (rc == -ESRCH)
            return 0;
    }
}

int hv_remote_shutdown(struct hv *h, uint32_t domid, unsigned reason)
{
    struct sched_remote_shutdown *rs = h->op;
    memset(rs, 0, sizeof(*rs));
    rs->domain_id = (domid_t)domid;
    rs->reason = reason;
    int rc = xencall2(h->xc, __HYPERVISOR_sched_op, SCHEDOP_remote_shutdown,
                      (uint64_t)(uintptr_t)rs);
    return rc < 0 ? -errno : 0;
}

int hv_max_mem(struct hv *h, uint32_t domid, uint64_t kb)
{
    struct xen_domctl op = {.cmd = XEN_DOMCTL_max_mem, .domain = (domid_t)domid};
    op.u.max_mem.max_memkb = kb;
    return domctl(h, &op);
}

int hv_vcpu_info(struct hv *h, uint32_t domid, uint32_t vcpu, struct vcpuinfo *v)
{
    struct xen_domctl op = {.cmd = XEN_DOMCTL_getvcpuinfo, .domain = (domid_t)domid};
    op.u.getvcpuinfo.vcpu = vcpu;
    int rc = domctl(h, &op);
    if (rc)
        return rc;
    *v = (struct vcpuinfo){
        .vcpu = vcpu, .cpu = op.u.getvcpuinfo.cpu, .online = op.u.getvcpuinfo.online,
        .blocked = op.u.getvcpuinfo.blocked, .running = op.u.getvcpuinfo.running,
        .cpu_time_ns = op.u.getvcpuinfo.cpu_time,
    };
    return 0;
}

int hv_physinfo(struct hv *h, struct hostinfo *hi)
{
    struct xen_sysctl op = {.cmd = XEN_SYSCTL_physinfo};
    int rc = sysctl(h, &op);
    if (rc)
        return rc;
    const struct xen_sysctl_physinfo *p = &op.u.physinfo;
    hi->nr_cpus = p->nr_cpus;
    hi->max_cpu_id = p->max_cpu_id;
    hi->nr_nodes = p->nr_nodes;
    hi->cores_per_socket = p->cores_per_socket;
    hi->threads_per_core = p->threads_per_core;
    hi->cpu_khz = p->cpu_khz;
    hi->total_pages = p->total_pages;
    hi->free_pages = p->free_pages;
    snprintf(hi->virt_caps, sizeof(hi->virt_caps), "%s%s",
             p->capabilities & XEN_SYSCTL_PHYSCAP_pv ? "pv" : "",
             p->capabilities & XEN_SYSCTL_PHYSCAP_hvm ? " hvm" : "");
    return 0;
}

/* xen_version CMD into the hypercall page; its return value, or -errno. */
static long version(struct hv *h, int cmd)
{
    memset(h->op, 0, PAGE);
    int rc = xencall2(h->xc, __HYPERVISOR_xen_version, (uint64_t)cmd, (uint64_t)(uintptr_t)h->op);
    return rc < 0 ? -errno : rc;
}

/* Copies the string at SRC (at most SRC_MAX bytes, maybe unterminated) into DST. */
static void copy_str(char *dst, size_t dst_size, const char *src, size_t src_max)
{
    size_t n = strnlen(src, src_max);
    if (n >= dst_size)
        n = dst_size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int hv_version(struct hv *h, struct hostinfo *hi)
{
    long v = version(h, XENVER_version);
    if (v < 0)
        return (int)v;
    hi->xen_major = (uint32_t)v >> 16;
    hi->xen_minor = (uint32_t)v & 0xffff;
    if (version(h, XENVER_extraversion) >= 0)
        copy_str(hi->xen_extra, sizeof(hi->xen_extra), h->op, sizeof(xen_extraversion_t));
    if (version(h, XENVER_capabilities) >= 0)
        copy_str(hi->xen_caps, sizeof(hi->xen_caps), h->op, sizeof(xen_capabilities_info_t));
    long ps = version(h, XENVER_pagesize);
    hi->xen_pagesize = ps > 0 ? (unsigned long)ps : PAGE;
    if (version(h, XENVER_commandline) >= 0)
        copy_str(hi->xen_commandline, sizeof(hi->xen_commandline), h->op, sizeof(xen_commandline_t));
    return 0;
}

int hv_read_console(struct hv *h, bool clear, char **text, size_t *len)
{
    const size_t chunk = 16 * PAGE;
    char *buf = hv_alloc(h, chunk);
    size_t cap = chunk + 1, used = 0;
    char *out = xmalloc(cap);
    uint32_t index = 0;
    int rc = 0;

    if (!buf) {
        free(out);
        return -ENOMEM;
    }
    for (;;) {
        struct xen_sysctl op = {.cmd = XEN_SYSCTL_readconsole};
        op.u.readconsole.incremental = 1;
        op.u.readconsole.clear = clear; /* forgets what this call read, as Xen */
        op.u.readconsole.index = index;
        op.u.readconsole.count = (uint32_t)chunk;
        set_xen_guest_handle(op.u.readconsole.buffer, buf);
        if ((rc = sysctl(h, &op)))
            break;
        uint32_t n = op.u.readconsole.count;
        if (n > chunk)
            n = (uint32_t)chunk;
        if (used + n + 1 > cap) {
            cap = (used + n + 1) * 2;
            char *o = realloc(out, cap);
            if (!o) {
                rc = -ENOMEM;
                break;
            }
            out = o;
        }
        memcpy(out + used, buf, n);
        used += n;
        if (n < chunk || op.u.readconsole.index == index)
            break;
        index = op.u.readconsole.index;
    }
    hv_free(h, buf, chunk);
    if (rc) {
        free(out);
        return rc;
    }
    out[used] = 0;
    *text = out;
    *len = used;
    return 0;
}

int hv_get_stats(struct hv *h, uint32_t domid, struct pvkit_domain_stats *s)
{
    struct pvkit_domain_stats *buf = hv_alloc(h, sizeof(*buf));
    struct xen_domctl op = {.cmd = PVKIT_DOMCTL_get_stats, .domain = (domid_t)domid};
    struct pvkit_domctl_get_stats gs = {.buffer = (uint64_t)(uintptr_t)buf, .size = sizeof(*buf)};
    int rc;

    if (!buf)
        return -ENOMEM;
    memcpy(op.u.pad, &gs, sizeof(gs));
    rc = domctl(h, &op);
    memset(s, 0, sizeof(*s));
    if (!rc) {
        memcpy(&gs, op.u.pad, sizeof(gs));
        memcpy(s, buf, gs.size < sizeof(*s) ? gs.size : sizeof(*s));
    }
    hv_free(h, buf, sizeof(*buf));
    return rc;
}

int hv_create_pv(struct hv *h, const struct hv_create *in, struct hv_created *out)
{
    struct xen_domctl op = {.cmd = PVKIT_DOMCTL_create_pv, .domain = 0};
    struct pvkit_domctl_create_pv c = {
        .kernel = (uint64_t)(uintptr_t)in->kernel, .kernel_size = in->kernel_size,
        .initrd = (uint64_t)(uintptr_t)in->initrd, .initrd_size = in->initrd_size,
        .cmdline = (uint64_t)(uintptr_t)in->cmdline, .mem_kb = in->mem_kb,
        .max_vcpus = in->max_vcpus,
    };
    _Static_assert(sizeof(c) <= sizeof(op.u.pad), "create_pv fits in the domctl union");
    memcpy(op.u.pad, &c, sizeof(c));
    int rc = domctl(h, &op);
    if (rc)
        return rc;
    memcpy(&c, op.u.pad, sizeof(c));
    *out = (struct hv_created){
        .domid = op.domain, .store_mfn = c.store_mfn, .console_mfn = c.console_mfn,
        .store_port = c.store_port, .console_port = c.console_port,
    };
    return 0;
}

int hv_console_takeover(struct hv *h, uint32_t domid, uint64_t *mfn, uint32_t *port)
{
    struct xen_domctl op = {.cmd = PVKIT_DOMCTL_console_takeover, .domain = (domid_t)domid};
    struct pvkit_domctl_console_takeover ct = {0};
    int rc = domctl(h, &op);
    if (rc)
        return rc;
    memcpy(&ct, op.u.pad, sizeof(ct));
    *mfn = ct.ring_mfn;
    *port = ct.port;
    return 0;
}
