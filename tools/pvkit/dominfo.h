/*
 * dominfo: what the toolstack knows of one domain, gathered from the
 * hypervisor (getdomaininfo) and xenstore (its name), and how a command
 * line argument names a domain: by id or by name, as in xl.
 *
 * Kept free of hypercalls, so formatting and resolution are unit-tested
 * on the host.
 */
#ifndef PVKIT_DOMINFO_H
#define PVKIT_DOMINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMINFO_NAME_MAX 64

/* Xen's shutdown reasons (SHUTDOWN_* of sched.h). */
enum { REASON_POWEROFF, REASON_REBOOT, REASON_SUSPEND, REASON_CRASH, REASON_WATCHDOG,
       REASON_SOFT_RESET };

struct dominfo {
    uint32_t domid;
    bool running, blocked, paused, shutdown, dying;
    unsigned shutdown_reason;   /* meaningful when shutdown */
    uint64_t mem_kb;            /* pages it holds, in KiB */
    uint64_t max_kb;            /* its limit, KiB */
    uint32_t vcpus_online;
    uint32_t max_vcpu_id;
    uint64_t cpu_time_ns;
    char name[DOMINFO_NAME_MAX]; /* from xenstore; "Domain-0" for 0, "(null)" if none */
};

/* A domain list, grown by dominfo_list_add; freed with dominfo_list_free. */
struct dominfo_list {
    struct dominfo *doms;
    size_t nr, cap;
};

/* Appends a copy of D. */
void dominfo_list_add(struct dominfo_list *l, const struct dominfo *d);
void dominfo_list_free(struct dominfo_list *l);

/*
 * Finds the domain ARG names in L: an all-digit ARG is an id (as in xl;
 * pvkit refuses all-digit names), anything else a name, which must match
 * exactly one domain. The index in L in *IDX and 0; -ESRCH with "ARG: no
 * such domain" in ERR (a name used by several domains: "ARG: N domains
 * have this name").
 */
int dominfo_resolve(const struct dominfo_list *l, const char *arg, size_t *idx, char err[128]);

/* The domain with id DOMID in L, or NULL. */
const struct dominfo *dominfo_find(const struct dominfo_list *l, uint32_t domid);

#endif
