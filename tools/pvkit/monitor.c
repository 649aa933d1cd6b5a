/*
 * monitor: per-domain shutdown watcher and restarter (monitor.h).
 */
#include "monitor.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "devices.h"
#include "store.h"
#include "cmd.h"
#include "dominfo.h"
#include "util.h"

enum domcfg_action monitor_action(const struct domcfg *dc, unsigned reason)
{
    switch (reason) {
    case REASON_POWEROFF: return dc->on_poweroff;
    case REASON_REBOOT: return dc->on_reboot;
    case REASON_SUSPEND: return ACTION_PRESERVE; /* a suspended domain waits for its save */
    default: return dc->on_crash;                /* crash, watchdog, soft reset */
    }
}

static void __attribute__((format(printf, 1, 2))) logf_(const char *fmt, ...)
{
    time_t now = time(NULL);
    char stamp[32];
    va_list ap;
    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", gmtime(&now));
    printf("%s ", stamp);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Records this process as DOMID's monitor. */
static void record_pid(struct ctx *c, uint32_t domid)
{
    char pid[16];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    if (store_set_record(c->xs, domid, "monitor", pid))
        logf_("cannot record the monitor's pid for domain %u", domid);
}

static const char *reason_name(unsigned r)
{
    static const char *const names[] = {"poweroff", "reboot", "suspend", "crash", "watchdog",
                                        "soft_reset"};
    return r < 6 ? names[r] : "unknown";
}

/*
 * Builds DC again (from CONFIG) into *DOMID, with the devices in DEVS (the
 * old domain's, hot-plugged ones included) or, if DEVS is NULL, DC's own;
 * exits the monitor if that fails.
 */
static void restart(struct ctx *c, const struct domcfg *dc, const char *config,
                    const struct domcfg *devs, uint32_t *domid)
{
    struct domcfg now = *dc; /* shares DC's strings; devices from DEVS */
    struct build_images img;
    char err[BUILD_ERR_MAX];
    int rc;

    if (devs) {
        memcpy(now.disks, devs->disks, sizeof(now.disks));
        memcpy(now.vifs, devs->vifs, sizeof(now.vifs));
        now.nr_disks = devs->nr_disks;
        now.nr_vifs = devs->nr_vifs;
    }
    if ((rc = build_check_and_load(c, &now, &img, err)) ||
        (rc = build_domain(c, &now, config, &img, domid, err))) {
        logf_("restart failed: %s", err);
        build_images_free(c, &img);
        _exit(1);
    }
    build_images_free(c, &img);
}

/* The monitor's loop: never returns. */
static void __attribute__((noreturn)) run(const struct domcfg *dc, const char *config, uint32_t domid)
{
    struct ctx c;

    if (ctx_open(&c, NEED_HV | NEED_XS))
        _exit(1);
    logf_("monitoring domain %u (%s)", domid, dc->name);
    record_pid(&c, domid);
    for (;;) {
        if (stop_requested) {
            logf_("stopped (pvkit destroy) while monitoring domain %u", domid);
            _exit(0);
        }
        struct dominfo d;
        int rc = hv_domain_info(c.hv, domid, &d);
        if (rc == -ESRCH || (rc == 0 && d.dying)) {
            logf_("domain %u is gone; monitor exits", domid);
            _exit(0);
        }
        if (rc == 0 && d.shutdown) {
            enum domcfg_action act = monitor_action(dc, d.shutdown_reason);
            logf_("domain %u shut down (%s): action %s", domid, reason_name(d.shutdown_reason),
                  domcfg_action_name(act));
            if (act == ACTION_PRESERVE)
                _exit(0);
            struct domcfg devs = {0};
            bool have_devs = act == ACTION_RESTART &&
                             (rc = devices_read_config(c.xs, domid, &devs)) == 0;
            if (act == ACTION_RESTART && !have_devs)
                logf_("domain %u's devices: %s; restarting with its config file's", domid,
                      strerror(-rc));
            rc = domain_destroy_all(&c, domid);
            if (rc)
                logf_("destroying domain %u: %s", domid, hv_strerror(rc));
            if (act == ACTION_DESTROY)
                _exit(rc ? 1 : 0);
            restart(&c, dc, config, have_devs ? &devs : NULL, &domid);
            domcfg_free(&devs);
            logf_("restarted as domain %u", domid);
            record_pid(&c, domid);
            continue;
        }
        nanosleep(&(struct timespec){.tv_nsec = MONITOR_POLL_MS * 1000000L}, NULL);
    }
}

pid_t monitor_start(const struct domcfg *dc, const char *config, uint32_t domid)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        return pid; /* the monitor (a daemon of its own: its parent is init) */
    setsid();
    mkdir(MONITOR_LOG_DIR, 0755);
    char *log = xasprintf(MONITOR_LOG_DIR "/%s.log", dc->name);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    free(log);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(fd >= 0 ? fd : null, 1);
    dup2(fd >= 0 ? fd : null, 2);
    if (fd > 2)
        close(fd);
    if (null > 2)
        close(null);
    if (chdir("/") < 0)
        _exit(1);
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    run(dc, config, domid);
}

void monitor_stop(struct xs_handle *xs, uint32_t domid)
{
    char *v = store_record(xs, domid, "monitor");
    long pid;
    if (!v)
        return;
    int rc = parse_long(v, 2, 1L << 22, &pid);
    free(v);
    if (rc || !process_is((pid_t)pid, PROG) || kill((pid_t)pid, SIGTERM) < 0)
        return;
    for (int i = 0; i < 50 && process_is((pid_t)pid, PROG); i++)
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
}
