/*
 * format: xl's (and xentop's) output formats, and pvkit's statistics (format.h).
 */
#include "format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "public/pvkit.h"

/* xl's letters for shutdown reasons, indexed by SHUTDOWN_* (xl_list.c). */
static const char reason_letters[] = "-rscwS";

void format_state(const struct dominfo *d, char out[7])
{
    out[0] = d->running ? 'r' : '-';
    out[1] = d->blocked ? 'b' : '-';
    out[2] = d->paused ? 'p' : '-';
    out[3] = d->shutdown ? 's' : '-';
    out[4] = d->shutdown && d->shutdown_reason < sizeof(reason_letters) - 1
                 ? reason_letters[d->shutdown_reason] : '-';
    out[5] = d->dying ? 'd' : '-';
    out[6] = 0;
}

void format_list_header(FILE *f)
{
    fprintf(f, "Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
}

void format_list_line(FILE *f, const struct dominfo *d)
{
    char st[7];
    format_state(d, st);
    fprintf(f, "%-40s %5u %5" PRIu64 " %5u     %s %8.1f\n", d->name, d->domid, d->mem_kb / 1024,
            d->vcpus_online, st, (double)d->cpu_time_ns / 1e9);
}

/* Writes S as a JSON string. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void format_list_json(FILE *f, const struct dominfo_list *l, char *const *extra)
{
    fprintf(f, "[\n");
    for (size_t i = 0; i < l->nr; i++) {
        const struct dominfo *d = &l->doms[i];
        char st[7];
        format_state(d, st);
        fprintf(f, "    {\n        \"domid\": %u,\n        \"name\": ", d->domid);
        json_string(f, d->name);
        fprintf(f, ",\n        \"state\": \"%s\",\n        \"memory_kb\": %" PRIu64
                   ",\n        \"max_memory_kb\": %" PRIu64 ",\n        \"vcpus_online\": %u"
                   ",\n        \"max_vcpu_id\": %u,\n        \"cpu_time\": %.3f",
                st, d->mem_kb, d->max_kb, d->vcpus_online, d->max_vcpu_id,
                (double)d->cpu_time_ns / 1e9);
        if (extra && extra[i] && extra[i][0])
            fprintf(f, ",\n%s", extra[i]);
        fprintf(f, "\n    }%s\n", i + 1 < l->nr ? "," : "");
    }
    fprintf(f, "]\n");
}

void format_vcpu_header(FILE *f)
{
    fprintf(f, "Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)\n");
}

void format_vcpu_line(FILE *f, const struct dominfo *d, const struct vcpuinfo *v)
{
    fprintf(f, "%-32s %5u %5u", d->name, d->domid, v->vcpu);
    if (v->online)
        fprintf(f, " %5u", v->cpu);
    else
        fprintf(f, " %5s", "-");
    fprintf(f, "   %c%c%c  %9.1f  all / all\n", v->online ? (v->running ? 'r' : '-') : '-',
            v->online && v->blocked ? 'b' : '-', v->online ? '-' : 'p',
            (double)v->cpu_time_ns / 1e9);
}

void format_uptime(uint64_t seconds, char out[32])
{
    uint64_t days = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
             s = seconds % 60;
    if (days)
        snprintf(out, 32, "%" PRIu64 " day%s, %2" PRIu64 ":%02" PRIu64 ":%02" PRIu64, days,
                 days == 1 ? "" : "s", h, m, s);
    else
        snprintf(out, 32, "%2" PRIu64 ":%02" PRIu64 ":%02" PRIu64, h, m, s);
}

void format_uptime_header(FILE *f)
{
    fprintf(f, "Name                                ID Uptime\n");
}

void format_uptime_line(FILE *f, const char *name, uint32_t domid, uint64_t seconds)
{
    char up[32];
    format_uptime(seconds, up);
    fprintf(f, "%-33s %4u %s\n", name, domid, up);
}

static void info_str(FILE *f, const char *key, const char *val)
{
    fprintf(f, "%-23s: %s\n", key, val);
}

static void info_num(FILE *f, const char *key, uint64_t val)
{
    fprintf(f, "%-23s: %" PRIu64 "\n", key, val);
}

void format_info(FILE *f, const struct hostinfo *h)
{
    char buf[64];

    info_str(f, "host", h->host);
    info_str(f, "release", h->release);
    info_str(f, "version", h->version);
    info_str(f, "machine", h->machine);
    info_num(f, "nr_cpus", h->nr_cpus);
    info_num(f, "max_cpu_id", h->max_cpu_id);
    info_num(f, "nr_nodes", h->nr_nodes);
    info_num(f, "cores_per_socket", h->cores_per_socket);
    info_num(f, "threads_per_core", h->threads_per_core);
    snprintf(buf, sizeof(buf), "%u.%03u", h->cpu_khz / 1000, h->cpu_khz % 1000);
    info_str(f, "cpu_mhz", buf);
    info_str(f, "virt_caps", h->virt_caps);
    info_num(f, "total_memory", h->total_pages / 256);
    info_num(f, "free_memory", h->free_pages / 256);
    info_num(f, "sharing_freed_memory", 0);
    info_num(f, "sharing_used_memory", 0);
    info_num(f, "outstanding_claims", 0);
    info_num(f, "free_cpus", 0);
    info_num(f, "xen_major", h->xen_major);
    info_num(f, "xen_minor", h->xen_minor);
    info_str(f, "xen_extra", h->xen_extra);
    snprintf(buf, sizeof(buf), "%u.%u%s", h->xen_major, h->xen_minor, h->xen_extra);
    info_str(f, "xen_version", buf);
    info_str(f, "xen_caps", h->xen_caps);
    info_str(f, "xen_scheduler", "pvkit");
    info_num(f, "xen_pagesize", h->xen_pagesize);
    info_str(f, "xen_commandline", h->xen_commandline);
    info_num(f, "xend_config_format", 4);
}

void format_top_header(FILE *f)
{
    fprintf(f, "      NAME  STATE   CPU(sec) CPU(%%)     MEM(k) MEM(%%)  MAXMEM(k) MAXMEM(%%) VCPUS\n");
}

void format_top_line(FILE *f, const struct dominfo *d, double cpu_pct, uint64_t total_kb)
{
    char st[7];
    /* xentop's order: dying, shutdown, blocked, crashed, running, paused */
    st[0] = d->dying ? 'd' : '-';
    st[1] = d->shutdown && d->shutdown_reason != REASON_CRASH ? 's' : '-';
    st[2] = d->blocked ? 'b' : '-';
    st[3] = d->shutdown && d->shutdown_reason == REASON_CRASH ? 'c' : '-';
    st[4] = d->running ? 'r' : '-';
    st[5] = d->paused ? 'p' : '-';
    st[6] = 0;
    double tot = total_kb ? (double)total_kb / 100.0 : 0; /* 0: the host's size unknown */
    fprintf(f, "%10.10s %6s %10" PRIu64 " %6.1f %10" PRIu64 " %6.1f %10" PRIu64 " %9.1f %5u\n",
            d->name, st, d->cpu_time_ns / 1000000000u, cpu_pct < 0 ? 0.0 : cpu_pct, d->mem_kb,
            tot ? (double)d->mem_kb / tot : 0.0, d->max_kb, tot ? (double)d->max_kb / tot : 0.0,
            d->vcpus_online);
}

static const char *const hypercall_names[] = {
    "set_trap_table", "mmu_update", "set_gdt", "stack_switch", "set_callbacks",
    "fpu_taskswitch", "sched_op_compat", "platform_op", "set_debugreg", "get_debugreg",
    "update_descriptor", NULL, "memory_op", "multicall", "update_va_mapping", "set_timer_op",
    "event_channel_op_compat", "xen_version", "console_io", "physdev_op_compat",
    "grant_table_op", "vm_assist", "update_va_mapping_otherdomain", "iret", "vcpu_op",
    "set_segment_base", "mmuext_op", "xsm_op", "nmi_op", "sched_op", "callback_op",
    "xenoprof_op", "event_channel_op", "physdev_op", "hvm_op", "sysctl", "domctl", "kexec_op",
    "tmem_op", "argo_op", "xenpmu_op", "dm_op", "hypfs_op",
};

const char *hypercall_name(unsigned n)
{
    if (n < sizeof(hypercall_names) / sizeof(hypercall_names[0]))
        return hypercall_names[n];
    if (n >= 48 && n <= 55) {
        static const char *const arch[] = {"arch_0", "arch_1", "arch_2", "arch_3",
                                           "arch_4", "arch_5", "arch_6", "arch_7"};
        return arch[n - 48];
    }
    if (n == __HYPERVISOR_pvkit_op)
        return "pvkit_op";
    return NULL;
}

static const char *const emulated_names[8] = {
    "cpuid", "rdmsr", "wrmsr", "cr-read", "cr-write", "port-io", "wbinvd", "pt-write",
};
static const char *const reject_names[8] = {
    "not-owned", "hv-frame", "reserved-bits", "superpage", "writable-pt", "wrong-type",
    "hv-slot", "bad-descriptor",
};

/* The label of batch-size bucket B: 1, 2-3, 4-7, ..., 2048-4095, >=4096. */
static void bucket_label(unsigned b, char out[16])
{
    if (b == 0)
        snprintf(out, 16, "1");
    else if (b == PVKIT_STATS_BUCKETS - 1)
        snprintf(out, 16, ">=%u", 1u << b);
    else
        snprintf(out, 16, "%u-%u", 1u << b, (2u << b) - 1);
}

static void histogram(FILE *f, const char *name, const uint64_t h[PVKIT_STATS_BUCKETS])
{
    uint64_t total = 0;
    for (unsigned b = 0; b < PVKIT_STATS_BUCKETS; b++)
        total += h[b];
    fprintf(f, "  %-18s %10" PRIu64 " batches", name, total);
    for (unsigned b = 0; b < PVKIT_STATS_BUCKETS; b++)
        if (h[b]) {
            char label[16];
            bucket_label(b, label);
            fprintf(f, "  %s:%" PRIu64, label, h[b]);
        }
    fputc('\n', f);
}

void format_stats(FILE *f, const struct dominfo *d, const struct pvkit_domain_stats *s)
{
    uint64_t calls = 0, errors = 0;

    fprintf(f, "Domain %u (%s)\n", d->domid, d->name);
    fprintf(f, "  %-30s %12s %12s\n", "hypercall", "calls", "errors");
    for (unsigned n = 0; n < PVKIT_STATS_HYPERCALLS; n++) {
        if (!s->hypercalls[n] && !s->hypercall_errors[n])
            continue;
        const char *name = hypercall_name(n);
        char num[16];
        if (!name) {
            snprintf(num, sizeof(num), "#%u", n);
            name = num;
        }
        fprintf(f, "  %-30s %12" PRIu64 " %12" PRIu64 "\n", name, s->hypercalls[n],
                s->hypercall_errors[n]);
        calls += s->hypercalls[n];
        errors += s->hypercall_errors[n];
    }
    if (s->hypercalls_unknown)
        fprintf(f, "  %-30s %12" PRIu64 "\n", "(unknown numbers)", s->hypercalls_unknown);
    fprintf(f, "  %-30s %12" PRIu64 " %12" PRIu64 "\n", "total", calls + s->hypercalls_unknown,
            errors);
    fprintf(f, "  emulated:");
    for (unsigned i = 0; i < 8; i++)
        fprintf(f, " %s %" PRIu64, emulated_names[i], s->emulated[i]);
    fprintf(f, "\n  exceptions: bounced %" PRIu64 ", fatal %" PRIu64 "\n", s->exceptions_bounced,
            s->exceptions_fatal);
    fprintf(f, "  validations %" PRIu64 ", pte updates %" PRIu64 "\n", s->validations,
            s->pte_updates);
    fprintf(f, "  rejected by rule:");
    for (unsigned i = 0; i < 8; i++)
        fprintf(f, " %s %" PRIu64, reject_names[i], s->rejects[i]);
    fprintf(f, "\n  batch sizes:\n");
    histogram(f, "mmu_update", s->mmu_update_batches);
    histogram(f, "mmuext_op", s->mmuext_batches);
    histogram(f, "multicall", s->multicall_batches);
    fprintf(f, "  events: sent %" PRIu64 ", delivered %" PRIu64 ", timer fires %" PRIu64 "\n",
            s->events_sent, s->events_delivered, s->timer_fires);
}
