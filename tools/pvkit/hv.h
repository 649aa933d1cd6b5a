/*
 * hv: the hypercalls the toolstack makes, through Linux's privcmd with
 * Debian's libxencall (as Xen's own tools do): Xen 4.17's domctl
 * (getdomaininfo, pausedomain, unpausedomain, destroydomain, max_mem,
 * getvcpuinfo) and sysctl (physinfo, readconsole), xen_version, sched_op's
 * remote_shutdown, and pvkit's PVKIT_DOMCTL_create_pv,
 * PVKIT_DOMCTL_get_stats and PVKIT_DOMCTL_console_takeover
 * (hypervisor/include/public/pvkit.h). Shared by pvkit and pvkit-consoled.
 *
 * Every argument structure travels in a hypercall buffer (locked memory
 * the hypervisor can always read); every function returns 0 or -errno,
 * the hypervisor's error as Linux numbers it (Xen's numbers are Linux's).
 */
#ifndef PVKIT_HV_H
#define PVKIT_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dominfo.h"
#include "format.h"

struct hv;
struct pvkit_domain_stats;

/* Opens privcmd. 0 and *H, or -errno (ENOENT: not in a Xen/pvkit domain). */
int hv_open(struct hv **h);
void hv_close(struct hv *h);

/* A hypercall-safe buffer of SIZE bytes (whole pages, zeroed), or NULL; freed with hv_free. */
void *hv_alloc(struct hv *h, size_t size);
void hv_free(struct hv *h, void *p, size_t size);

/* Every domain, in id order (names left empty: store.c fills them). */
int hv_list_domains(struct hv *h, struct dominfo_list *l);

/* Domain DOMID. -ESRCH if there is none. */
int hv_domain_info(struct hv *h, uint32_t domid, struct dominfo *d);

int hv_pause(struct hv *h, uint32_t domid);
int hv_unpause(struct hv *h, uint32_t domid);

/*
 * Destroys DOMID: destroydomain (continued inside the hypervisor until it
 * returns), then, while the domain is still there (dying, with frames
 * another domain maps), destroydomain again every 100 ms for up to
 * TIMEOUT_MS. 0 when it is gone; -EBUSY if it is still dying at the end;
 * -ESRCH if it did not exist.
 */
int hv_destroy(struct hv *h, uint32_t domid, unsigned timeout_ms);

/* sched_op(SCHEDOP_remote_shutdown): shuts DOMID down for REASON (SHUTDOWN_*). */
int hv_remote_shutdown(struct hv *h, uint32_t domid, unsigned reason);

/* XEN_DOMCTL_max_mem: DOMID's limit, KiB. */
int hv_max_mem(struct hv *h, uint32_t domid, uint64_t kb);

/* XEN_DOMCTL_getvcpuinfo: vCPU VCPU of DOMID. */
int hv_vcpu_info(struct hv *h, uint32_t domid, uint32_t vcpu, struct vcpuinfo *v);

/* XEN_SYSCTL_physinfo into the host fields of HI (cpus, memory, cpu_khz, virt_caps). */
int hv_physinfo(struct hv *h, struct hostinfo *hi);

/* xen_version: major, minor, extra, capabilities, page size, command line into HI. */
int hv_version(struct hv *h, struct hostinfo *hi);

/*
 * XEN_SYSCTL_readconsole: the whole log ring into *TEXT (*LEN bytes,
 * NUL-terminated, free()d by the caller); with CLEAR the hypervisor
 * forgets what was read (bytes logged meanwhile stay, as on Xen).
 */
int hv_read_console(struct hv *h, bool clear, char **text, size_t *len);

/* PVKIT_DOMCTL_get_stats of DOMID into *S (zeroed first: an older
 * hypervisor's shorter structure leaves the rest 0). */
int hv_get_stats(struct hv *h, uint32_t domid, struct pvkit_domain_stats *s);

/* What PVKIT_DOMCTL_create_pv needs: images in hypercall buffers (hv_alloc). */
struct hv_create {
    const void *kernel; size_t kernel_size;
    const void *initrd; size_t initrd_size;   /* NULL, 0: none */
    const char *cmdline;                      /* in a hypercall buffer, or NULL */
    uint64_t mem_kb;
    uint32_t max_vcpus;
};

/* And what it gives. */
struct hv_created {
    uint32_t domid;
    uint64_t store_mfn, console_mfn;
    uint32_t store_port, console_port;
};

/* Creates and builds a PV domain, left paused. 0 and *OUT, or -errno (pvkit.h lists them). */
int hv_create_pv(struct hv *h, const struct hv_create *in, struct hv_created *out);

/*
 * PVKIT_DOMCTL_console_takeover: takes DOMID's console ring from the
 * hypervisor for a console daemon. 0 with the ring's frame in *MFN and the
 * domU's port (unbound, remote the caller) in *PORT; -EBUSY/-ENOENT/-EINVAL
 * as pvkit.h says.
 */
int hv_console_takeover(struct hv *h, uint32_t domid, uint64_t *mfn, uint32_t *port);

#endif
