/*
 * nettool: the network end of pvkit's I/O checks, run inside domUs and
 * dom0 (static, no libraries needed in a busybox image). It moves a
 * deterministic byte stream over TCP or UDP, IPv4 or IPv6 (link-local
 * addresses with %IFACE), and prints what it sent or received as
 * "bytes N sum X" (X: FNV-1a 64 of the bytes in order), so two ends can be
 * compared byte for byte.
 *
 *   nettool tcp-recv PORT                  one connection, until EOF
 *   nettool tcp-send ADDR PORT BYTES SEED  connects (retrying for 30 s)
 *   nettool udp-recv PORT COUNT SECONDS    until COUNT datagrams or SECONDS idle;
 *                                          prints "datagrams N bytes N sum X"
 *   nettool udp-send ADDR PORT COUNT SIZE SEED
 *
 * Exit status 0 when the transfer completed, 1 otherwise, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct stream {
    uint64_t sum, bytes, state;
};

static void stream_init(struct stream *s, uint64_t seed)
{
    *s = (struct stream){ .sum = 0xcbf29ce484222325ull, .state = seed * 2 + 1 };
}

/* Adds LEN bytes to S's count and sum. */
static void stream_account(struct stream *s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        s->sum = (s->sum ^ p[i]) * 0x100000001b3ull;
    s->bytes += len;
}

/* Fills P with the next LEN bytes of S's generator (xorshift64). */
static void stream_fill(struct stream *s, uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s->state ^= s->state << 13;
        s->state ^= s->state >> 7;
        s->state ^= s->state << 17;
        p[i] = (uint8_t)s->state;
    }
}

static long number(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 0) {
        fprintf(stderr, "nettool: '%s' is not a number\n", s);
        exit(2);
    }
    return v;
}

/* A socket of TYPE connected (or, for UDP, aimed) at ADDR:PORT; -1. */
static int open_to(const char *addr, const char *port, int type, struct sockaddr_storage *to,
                   socklen_t *tolen)
{
    struct addrinfo hints = { .ai_socktype = type }, *ai;
    int rc = getaddrinfo(addr, port, &hints, &ai);
    if (rc) {
        fprintf(stderr, "nettool: %s: %s\n", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, type, 0);
    memcpy(to, ai->ai_addr, ai->ai_addrlen);
    *tolen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return fd;
}

/* A socket of TYPE bound to [::]:PORT (IPv4 too); -1. */
static int open_local(long port, int type)
{
    int fd = socket(AF_INET6, type, 0), off = 0, on = 1;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                              .sin6_addr = IN6ADDR_ANY_INIT };
    if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
        bind(fd, (struct sockaddr *)&a, sizeof(a))) {
        perror("nettool: bind");
        return -1;
    }
    return fd;
}

static int tcp_recv(long port)
{
    int l = open_local(port, SOCK_STREAM), c;
    uint8_t buf[65536];
    struct stream s;
    ssize_t n;

    if (l < 0 || listen(l, 1) || (c = accept(l, NULL, NULL)) < 0)
        return 1;
    stream_init(&s, 0);
    while ((n = read(c, buf, sizeof(buf))) > 0)
        stream_account(&s, buf, (size_t)n);
    printf("bytes %llu sum %016llx\n", (unsigned long long)s.bytes, (unsigned long long)s.sum);
    return n < 0;
}

static int tcp_send(const char *addr, const char *port, long bytes, long seed)
{
    struct sockaddr_storage to;
    socklen_t tolen;
    uint8_t buf[65536];
    struct stream s;
    int fd = -1;

    for (int tries = 0; tries < 60; tries++) {
        fd = open_to(addr, port, SOCK_STREAM, &to, &tolen);
        if (fd < 0)
            return 1;
        if (connect(fd, (struct sockaddr *)&to, tolen) == 0)
            break;
        close(fd);
        fd = -1;
        nanosleep(&(struct timespec){ .tv_nsec = 500000000 }, NULL);
    }
    if (fd < 0) {
        fprintf(stderr, "nettool: cannot connect to %s port %s\n", addr, port);
        return 1;
    }
    stream_init(&s, (uint64_t)seed);
    for (long left = bytes; left > 0;) {
        size_t chunk = left < (long)sizeof(buf) ? (size_t)left : sizeof(buf);
        stream_fill(&s, buf, chunk);
        for (size_t off = 0; off < chunk;) {
            ssize_t n = write(fd, buf + off, chunk - off);
            if (n < 0) {
                perror("nettool: write");
                return 1;
            }
            off += (size_t)n;
        }
        stream_account(&s, buf, chunk);
        left -= (long)chunk;
    }
    close(fd);
    printf("bytes %llu sum %016llx\n", (unsigned long long)s.bytes, (unsigned long long)s.sum);
    return 0;
}

static int udp_recv(long port, long count, long seconds)
{
    int fd = open_local(port, SOCK_DGRAM);
    uint8_t buf[65536];
    struct stream s;
    long got = 0;

    if (fd < 0)
        return 1;
    stream_init(&s, 0);
    printf("listening\n");
    fflush(stdout);
    while (got < count) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)seconds * 1000) <= 0)
            break;
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0)
            break;
        stream_account(&s, buf, (size_t)n);
        got++;
    }
    printf("datagrams %ld bytes %llu sum %016llx\n", got, (unsigned long long)s.bytes,
           (unsigned long long)s.sum);
    return got < count;
}

static int udp_send(const char *addr, const char *port, long count, long size, long seed)
{
    struct sockaddr_storage to;
    socklen_t tolen;
    uint8_t buf[65507];
    struct stream s;
    int fd = open_to(addr, port, SOCK_DGRAM, &to, &tolen);

    if (fd < 0 || size > (long)sizeof(buf))
        return 1;
    stream_init(&s, (uint64_t)seed);
    for (long i = 0; i < count; i++) {
        stream_fill(&s, buf, (size_t)size);
        if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&to, tolen) != size) {
            perror("nettool: sendto");
            return 1;
        }
        stream_account(&s, buf, (size_t)size);
        nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL); /* paced: no drops */
    }
    printf("datagrams %ld bytes %llu sum %016llx\n", count, (unsigned long long)s.bytes,
           (unsigned long long)s.sum);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && !strcmp(argv[1], "tcp-recv"))
        return tcp_recv(number(argv[2]));
    if (argc == 6 && !strcmp(argv[1], "tcp-send"))
        return tcp_send(argv[2], argv[3], number(argv[4]), number(argv[5]));
    if (argc == 5 && !strcmp(argv[1], "udp-recv"))
        return udp_recv(number(argv[2]), number(argv[3]), number(argv[4]));
    if (argc == 7 && !strcmp(argv[1], "udp-send"))
        return udp_send(argv[2], argv[3], number(argv[4]), number(argv[5]), number(argv[6]));
    fprintf(stderr, "usage: nettool tcp-recv PORT | tcp-send ADDR PORT BYTES SEED |\n"
                    "       udp-recv PORT COUNT SECONDS | udp-send ADDR PORT COUNT SIZE SEED\n");
    return 2;
}
