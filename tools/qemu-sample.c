/*
 * qemu-sample: a sampling profiler for anything that runs under QEMU TCG
 * (pvkit, its guests, Xen): it asks QEMU's human monitor for every CPU's
 * registers ("info registers -a") at a fixed interval and prints one line
 * per CPU and sample:
 *
 *     HOST_US CPU RIP CPL HLT
 *
 * HOST_US is the host's CLOCK_REALTIME in microseconds (bash's
 * EPOCHREALTIME without the dot, so samples line up with time-stamped
 * console lines), RIP in hex, CPL 0-3, HLT 1 when the CPU is halted (the
 * idle loop). Symbols are looked up afterwards (tools/profile-report).
 *
 * Invariants: the monitor is only read, never told to change anything; one
 * request is outstanding at a time (the answer ends with the "(qemu) "
 * prompt); the program ends when QEMU closes the socket, or after --secs.
 *
 * Usage: qemu-sample --socket PATH [--hz N] [--secs S] [--wait S]
 *   PATH is QEMU's `-monitor unix:PATH,server=on,wait=off`; --wait is how
 *   long to retry connecting while QEMU starts (default 30 s); --hz 1-5000
 *   (default 500); --secs 0 = until QEMU exits (default).
 * Exit status: 0 after at least one sample, 1 on no sample or a socket
 * error, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX (1u << 20)

static const char prompt[] = "(qemu) ";

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps for us microseconds (a signal cutting it short is fine). */
static void sleep_us(long long us)
{
    struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

/* Connects to the monitor at path, retrying for wait_s seconds; an fd or -errno. */
static int connect_monitor(const char *path, int wait_s)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    long long deadline = now_us() + (long long)wait_s * 1000000;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        int err = errno;
        close(fd);
        if (now_us() >= deadline)
            return -err;
        sleep_us(100000);
    }
}

/*
 * Reads from fd into buf (capacity cap) until the text ends with the
 * monitor's prompt; returns its length (NUL-terminated), 0 when QEMU closed
 * the socket, -errno on an error or an answer longer than cap.
 */
static long read_reply(int fd, char *buf, size_t cap)
{
    size_t len = 0, pl = sizeof(prompt) - 1;
    for (;;) {
        if (len + 1 >= cap)
            return -EMSGSIZE;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        if (len >= pl && memcmp(buf + len - pl, prompt, pl) == 0)
            return (long)len;
    }
}

/*
 * Prints one line per CPU found in an "info registers -a" answer: QEMU
 * starts each CPU's dump with "CPU#N", then "RIP=... RFL=...", later
 * "CPL=N" and "HLT=N" on the segment/flags lines.
 */
static int print_samples(const char *reply, long long t)
{
    int printed = 0;
    const char *p = reply;
    while ((p = strstr(p, "CPU#")) != NULL) {
        int cpu = atoi(p + 4);
        const char *next = strstr(p + 4, "CPU#");
        const char *rip = strstr(p, "RIP="), *cpl = strstr(p, "CPL="), *hlt = strstr(p, "HLT=");
        if (rip && cpl && hlt && (!next || (rip < next && cpl < next && hlt < next))) {
            printf("%lld %d %llx %d %d\n", t, cpu, strtoull(rip + 4, NULL, 16), atoi(cpl + 4),
                   atoi(hlt + 4));
            printed++;
        }
        p += 4;
    }
    return printed;
}

/* Parses a decimal option value in [lo, hi]; -1 if it is not one. */
static long parse_num(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    return v;
}

static int usage(void)
{
    fprintf(stderr, "usage: qemu-sample --socket PATH [--hz N] [--secs S] [--wait S]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long hz = 500, secs = 0, wait_s = 30;

    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--socket"))
            path = argv[i + 1];
        else if (!strcmp(argv[i], "--hz") && (hz = parse_num(argv[i + 1], 1, 5000)) > 0)
            continue;
        else if (!strcmp(argv[i], "--secs") && (secs = parse_num(argv[i + 1], 0, 86400)) >= 0)
            continue;
        else if (!strcmp(argv[i], "--wait") && (wait_s = parse_num(argv[i + 1], 0, 3600)) >= 0)
            continue;
        else
            return usage();
    }
    if (!path)
        return usage();
    int fd = connect_monitor(path, (int)wait_s);
    if (fd < 0) {
        fprintf(stderr, "qemu-sample: %s: %s\n", path, strerror(-fd));
        return 1;
    }
    char *buf = malloc(REPLY_MAX);
    if (!buf)
        return 1;
    long n = read_reply(fd, buf, REPLY_MAX); /* the greeting, up to the first prompt */
    long long period = 1000000 / hz, end = secs ? now_us() + secs * 1000000LL : 0;
    long samples = 0;
    static const char cmd[] = "info registers -a\n";
    while (n > 0 && (!end || now_us() < end)) {
        long long t = now_us();
        if (write(fd, cmd, sizeof(cmd) - 1) != (ssize_t)(sizeof(cmd) - 1))
            break;
        if ((n = read_reply(fd, buf, REPLY_MAX)) <= 0)
            break;
        samples += print_samples(buf, t);
        long long left = t + period - now_us();
        if (left > 0)
            sleep_us(left);
    }
    if (n < 0)
        fprintf(stderr, "qemu-sample: reading the monitor: %s\n", strerror((int)-n));
    fprintf(stderr, "qemu-sample: %ld samples\n", samples);
    free(buf);
    close(fd);
    return samples ? 0 : 1;
}
