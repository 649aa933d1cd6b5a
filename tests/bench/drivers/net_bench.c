/*
 * net_bench.c - network benchmark, run inside the bench's network
 * namespace: frames sent by the portable netfront through pvkit-netback
 * into tap vif<D>.0, against the same frames written straight into a tap
 * device by this process, measured back to back.
 *   net-bench DOMID SECONDS
 * Prints "net tx-64B: <pps> pps (raw <pps> pps, ratio <r>)" and
 * "net tx-1514B: <Gbit/s> Gbit/s (raw ..., ratio <r>)".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hosted/hosted_dom.h"
#include "netfront/netfront.h"

static struct hosted_dom *dom;
static struct netfront_dev dev;
static uint8_t frame[1514];

/* Contract: monotonic seconds. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Contract: frames per second netfront gets through netback for `secs`. */
static double run_pvkit(unsigned len, double secs)
{
    unsigned long sent = 0, done = 0;
    double t0 = now();

    while (now() - t0 < secs) {
        int n;

        while (netfront_send(&dev, 0, frame, len, 0) == 0)
            sent++;
        n = netfront_tx_poll(&dev, 0);
        done += (unsigned long)n;
        if (n == 0)
            hosted_dom_wait(dom, 1);
    }
    while (done < sent) {
        int n = netfront_tx_poll(&dev, 0);

        done += (unsigned long)n;
        if (n == 0)
            hosted_dom_wait(dom, 1);
    }
    return done / (now() - t0);
}

/* Contract: a tap device `name`, up; its fd. */
static int raw_tap(const char *name)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (fd < 0 || s < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 ||
        ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        exit(1);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        exit(1);
    close(s);
    return fd;
}

/* Contract: frames per second written straight into the tap for `secs`. */
static double run_raw(int fd, unsigned len, double secs)
{
    unsigned long n = 0;
    double t0 = now();

    while (now() - t0 < secs) {
        for (int i = 0; i < 256; i++)
            if (write(fd, frame, len) == (ssize_t)len)
                n++;
    }
    return n / (now() - t0);
}

int main(int argc, char **argv)
{
    struct netfront_opts o = { .max_queues = 1 };
    char node[64];
    double secs, pv, raw;
    int fd;

    secs = bench_seconds(argc, argv, 2, "net-bench DOMID SECONDS");
    dom = hosted_dom_create((domid_t)atoi(argv[1]), 4096, 1);
    snprintf(node, sizeof(node), "/local/domain/%s/device/vif/0", argv[1]);
    if (!dom || netfront_init(&dev, hosted_dom_os(dom), node, &o) < 0 ||
        netfront_connect(&dev, 15000) < 0) {
        fprintf(stderr, "net-bench: cannot connect %s\n", node);
        return 1;
    }
    fd = raw_tap("pvkraw0");
    memset(frame, 0xff, 6);
    memcpy(frame + 6, dev.mac, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    pv = run_pvkit(64, secs);
    raw = run_raw(fd, 64, secs);
    printf("net tx-64B: %.0f pps (raw %.0f pps, ratio %.2f)\n", pv, raw, pv / raw);
    pv = run_pvkit(1514, secs);
    raw = run_raw(fd, 1514, secs);
    printf("net tx-1514B: %.2f Gbit/s (raw %.2f Gbit/s, ratio %.2f)\n",
           pv * 1514 * 8 / 1e9, raw * 1514 * 8 / 1e9, pv / raw);
    netfront_disconnect(&dev, 15000);
    hosted_dom_destroy(dom);
    close(fd);
    return 0;
}
