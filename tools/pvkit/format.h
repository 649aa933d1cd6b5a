/*
 * format: the output of pvkit's read-only verbs, in xl's formats where xl
 * has one (xl list, xl vcpu-list, xl info, xl uptime; xentop's batch
 * lines for `top`), and pvkit's own for `stats`. Pure functions onto a
 * FILE, unit-tested on the host.
 */
#ifndef PVKIT_FORMAT_H
#define PVKIT_FORMAT_H

#include <stdint.h>
#include <stdio.h>

#include "dominfo.h"

struct pvkit_domain_stats;

/* xl list's state column: r b p s (reason letter) d, '-' where not set. OUT gets 7 bytes. */
void format_state(const struct dominfo *d, char out[7]);

/* xl list: the header line, then one line per domain. */
void format_list_header(FILE *f);
void format_list_line(FILE *f, const struct dominfo *d);

/* xl list -l: a JSON array of domains; EXTRA[i] (may be NULL) is a JSON
 * object's members (without braces) appended to domain i's object. */
void format_list_json(FILE *f, const struct dominfo_list *l, char *const *extra);

/* One vCPU as the hypervisor reports it (XEN_DOMCTL_getvcpuinfo). */
struct vcpuinfo {
    uint32_t vcpu, cpu;
    bool online, blocked, running;
    uint64_t cpu_time_ns;
};

/* xl vcpu-list: the header, and one vCPU of domain D. */
void format_vcpu_header(FILE *f);
void format_vcpu_line(FILE *f, const struct dominfo *d, const struct vcpuinfo *v);

/* xl uptime: "%d day(s), HH:MM:SS" or " H:MM:SS" for SECONDS into OUT (32 bytes). */
void format_uptime(uint64_t seconds, char out[32]);
void format_uptime_header(FILE *f);
void format_uptime_line(FILE *f, const char *name, uint32_t domid, uint64_t seconds);

/* What `pvkit info` shows (xl info's fields that pvkit can fill). */
struct hostinfo {
    char host[65], release[65], version[65], machine[65];
    uint32_t nr_cpus, max_cpu_id, nr_nodes, cores_per_socket, threads_per_core;
    uint32_t cpu_khz;
    uint64_t total_pages, free_pages;   /* 4 KiB pages */
    uint32_t xen_major, xen_minor;
    char xen_extra[32];
    char xen_caps[256];
    unsigned long xen_pagesize;
    char xen_commandline[1024];
    char virt_caps[32];
};

/* xl info: "%-23s: %s" lines. */
void format_info(FILE *f, const struct hostinfo *h);

/* xentop's batch columns that pvkit has (no network or block devices yet). */
void format_top_header(FILE *f);
/* CPU_PCT: share of one CPU since the last sample (negative: not known yet);
 * TOTAL_KB: the host's memory, for MEM(%). */
void format_top_line(FILE *f, const struct dominfo *d, double cpu_pct, uint64_t total_kb);

/* The name of hypercall N (Xen's __HYPERVISOR_* without the prefix), or NULL. */
const char *hypercall_name(unsigned n);

/* pvkit stats: domain D's statistics S, calls and errors per hypercall
 * (non-zero rows), emulations, exceptions, validations, rejections by
 * rule, batch-size histograms, events. */
void format_stats(FILE *f, const struct dominfo *d, const struct pvkit_domain_stats *s);

#endif
