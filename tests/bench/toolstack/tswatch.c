/* tswatch: time stamps for the toolstack benchmark (tests/bench/toolstack), run in dom0.
 *
 *   tswatch now
 *       Prints the time of CLOCK_BOOTTIME (the clock of /proc/uptime) in seconds with
 *       6 decimals: the clock every figure of the benchmark is taken on.
 *   tswatch FILE TIMEOUT_S [LABEL=TEXT]...
 *       Follows FILE, a console log a console daemon appends to (xenconsoled's
 *       guest-NAME.log, pvkit-consoled's NAME.log). FILE may not exist yet; it is only
 *       read. Prints "TSWATCH start T" at once, then "TSWATCH first_line T" when the
 *       file first holds a newline and "TSWATCH LABEL T" when TEXT first appears in it,
 *       T being the moment tswatch saw it. It sleeps in inotify on FILE's directory
 *       (created or modified entries), so a line is stamped as soon as the daemon has
 *       written it, with no console client attached; if inotify is not available it
 *       polls every 5 ms. Exits 0 once the first line and every TEXT were seen, 1 on
 *       timeout ("TSWATCH timeout T"), 2 on a usage error.
 * Built static (gcc -std=c11 -static) so it runs in any dom0 initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* Seconds on CLOCK_BOOTTIME. */
static double boottime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void stamp(const char *what, double t)
{
    printf("TSWATCH %s %.6f\n", what, t);
    fflush(stdout);
}

/* Everything read from the followed file so far (it only grows). */
struct text {
    char *buf;
    size_t len, cap;
};

/* Reads what fd has beyond what was read before; returns 0, or -1 on no memory. */
static int slurp(int fd, struct text *t)
{
    for (;;) {
        if (t->cap - t->len < 4096) {
            size_t ncap = t->cap ? t->cap * 2 : 65536;
            char *n = realloc(t->buf, ncap);
            if (!n)
                return -1;
            t->buf = n;
            t->cap = ncap;
        }
        ssize_t r = read(fd, t->buf + t->len, t->cap - t->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        t->len += (size_t)r;
    }
}

/* The directory part of path, in a new string ("." if it has none). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "now") == 0) {
        printf("%.6f\n", boottime());
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: tswatch now | tswatch FILE TIMEOUT_S [LABEL=TEXT]...\n");
        return 2;
    }
    const char *path = argv[1];
    char *end;
    double limit = strtod(argv[2], &end);
    if (*end || limit <= 0) {
        fprintf(stderr, "tswatch: %s: TIMEOUT_S wants a positive number of seconds\n", argv[2]);
        return 2;
    }
    int nwant = argc - 3;
    char **label = calloc((size_t)nwant + 1, sizeof *label);
    const char **want = calloc((size_t)nwant + 1, sizeof *want);
    char *seen = calloc((size_t)nwant + 1, 1);
    if (!label || !want || !seen) {
        fprintf(stderr, "tswatch: out of memory\n");
        return 2;
    }
    for (int i = 0; i < nwant; i++) {
        label[i] = strdup(argv[3 + i]);
        char *eq = label[i] ? strchr(label[i], '=') : NULL;
        if (!eq || eq == label[i] || !eq[1]) {
            fprintf(stderr, "tswatch: %s: want LABEL=TEXT\n", argv[3 + i]);
            return 2;
        }
        *eq = '\0';
        want[i] = eq + 1;
    }

    int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ino >= 0) {
        char *dir = dir_of(path);
        if (!dir || inotify_add_watch(ino, dir, IN_CREATE | IN_MODIFY | IN_MOVED_TO) < 0) {
            close(ino);
            ino = -1;
        }
        free(dir);
    }

    struct text txt = { 0 };
    int fd = -1, have_line = 0, nseen = 0;
    double t0 = boottime();
    stamp("start", t0);
    for (;;) {
        if (fd < 0)
            fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && slurp(fd, &txt) < 0) {
            fprintf(stderr, "tswatch: out of memory\n");
            return 2;
        }
        double t = boottime();
        if (!have_line && txt.len && memchr(txt.buf, '\n', txt.len)) {
            have_line = 1;
            stamp("first_line", t);
        }
        for (int i = 0; i < nwant; i++) {
            if (!seen[i] && txt.len && memmem(txt.buf, txt.len, want[i], strlen(want[i]))) {
                seen[i] = 1;
                nseen++;
                stamp(label[i], t);
            }
        }
        if (have_line && nseen == nwant)
            return 0;
        if (t - t0 >= limit) {
            stamp("timeout", t);
            return 1;
        }
        if (ino >= 0) {
            struct pollfd p = { .fd = ino, .events = POLLIN };
            char ev[4096] __attribute__((aligned(8)));
            int left_ms = (int)((t0 + limit - t) * 1000) + 1;
            if (poll(&p, 1, left_ms < 1000 ? left_ms : 1000) > 0)
                while (read(ino, ev, sizeof ev) > 0)
                    ;
        } else {
            usleep(5000);
        }
    }
}
