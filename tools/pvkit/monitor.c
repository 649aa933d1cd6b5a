/*
 * monitor: per-domain shutdown watcher and restarter (monitor.h).
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
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

static const char *reason_name(unsigned r)
{
    static const char *const names[] = {"poweroff", "reboot", "suspend", "crash", "watchdog",
                                        "soft_reset"};
    return r < 6 ? names[r] : "unknown";
}

/* The monitor's loop: never returns. */
static void __attribute__((noreturn)) run(const struct domcfg *dc, const char *config, uint32_t domid)
{
    struct ctx c;

    if (ctx_open(&c, NEED_HV | NEED_XS))
        _exit(1);
    logf_("monitoring domain %u (%s)", domid, dc->name);
    for (;;) {
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
            rc = domain_destroy_all(&c, domid);
            if (rc)
                logf_("destroying domain %u: %s", domid, hv_strerror(rc));
            if (act == ACTION_DESTROY)
                _exit(rc ? 1 : 0);
            struct build_images img;
            char err[BUILD_ERR_MAX];
            if ((rc = build_check_and_load(&c, dc, &img, err)) ||
                (rc = build_domain(&c, dc, config, &img, &domid, err))) {
                logf_("restart failed: %s", err);
                build_images_free(&c, &img);
                _exit(1);
            }
            build_images_free(&c, &img);
            logf_("restarted as domain %u", domid);
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
    run(dc, config, domid);
}
