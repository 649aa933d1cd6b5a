/*
 * cmd_top: `pvkit top [-b] [-i ITERATIONS] [-d SECONDS]`, xentop's view
 * of the domains: a summary (domains by state, host memory, CPUs) and one
 * line per domain with its CPU time and share since the last refresh,
 * memory and vCPUs. On a terminal it redraws in place every SECONDS
 * (default 3, as xentop) until interrupted or ITERATIONS are shown; -b
 * writes the frames one after another, for scripts and tests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "format.h"
#include "util.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summary(const struct dominfo_list *l, const struct hostinfo *hi)
{
    unsigned running = 0, blocked = 0, paused = 0, crashed = 0, dying = 0, shutdown = 0;
    for (size_t i = 0; i < l->nr; i++) {
        const struct dominfo *d = &l->doms[i];
        running += d->running;
        blocked += d->blocked;
        paused += d->paused;
        crashed += d->shutdown && d->shutdown_reason == REASON_CRASH;
        shutdown += d->shutdown && d->shutdown_reason != REASON_CRASH;
        dying += d->dying;
    }
    time_t t = time(NULL);
    char stamp[16];
    strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&t));
    printf("pvkit top - %s\n", stamp);
    printf("%zu domains: %u running, %u blocked, %u paused, %u crashed, %u dying, %u shutdown\n",
           l->nr, running, blocked, paused, crashed, dying, shutdown);
    printf("Mem: %lluk total, %lluk used, %lluk free    CPUs: %u @ %uMHz\n",
           (unsigned long long)hi->total_pages * 4,
           (unsigned long long)(hi->total_pages - hi->free_pages) * 4,
           (unsigned long long)hi->free_pages * 4, hi->nr_cpus, hi->cpu_khz / 1000);
}

int cmd_top(struct ctx *c, const struct args *a)
{
    long iterations = 0, delay_ms = 3000;
    const char *v;
    bool batch = args_flag(a, 'b');
    struct dominfo_list prev = {0};
    double prev_t = 0;

    if ((v = args_value(a, 'i')) && parse_long(v, 1, 1000000, &iterations))
        return err_msg("top: -i %s: not a number of iterations (1 or more)", v);
    if ((v = args_value(a, 'd'))) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d >= 0.1 && d <= 3600))
            return err_msg("top: -d %s: not a delay in seconds (0.1 to 3600)", v);
        delay_ms = (long)(d * 1000);
    }
    for (long n = 0; iterations == 0 || n < iterations; n++) {
        struct dominfo_list l = {0};
        struct hostinfo hi = {0};
        int rc;
        if (ctx_list(c, &l))
            return 1;
        if ((rc = hv_physinfo(c->hv, &hi))) {
            dominfo_list_free(&l);
            return err_msg("top: physinfo: %s", hv_strerror(rc));
        }
        double t = now_s();
        if (!batch)
            fputs("\033[H\033[2J", stdout);
        summary(&l, &hi);
        format_top_header(stdout);
        for (size_t i = 0; i < l.nr; i++) {
            const struct dominfo *p = dominfo_find(&prev, l.doms[i].domid);
            double pct = -1;
            if (p && t > prev_t && l.doms[i].cpu_time_ns >= p->cpu_time_ns)
                pct = 100.0 * (double)(l.doms[i].cpu_time_ns - p->cpu_time_ns) / 1e9 / (t - prev_t);
            format_top_line(stdout, &l.doms[i], pct, hi.total_pages * 4);
        }
        if (batch)
            putchar('\n');
        fflush(stdout);
        dominfo_list_free(&prev);
        prev = l;
        prev_t = t;
        if (iterations && n + 1 >= iterations)
            break;
        nanosleep(&(struct timespec){.tv_sec = delay_ms / 1000,
                                     .tv_nsec = (delay_ms % 1000) * 1000000L}, NULL);
    }
    dominfo_list_free(&prev);
    return 0;
}
