/*
 * console_test.c - end-to-end test of pvkit-consoled with the portable
 * console frontend (frontends/console) over the hosted transport.
 *   console-test DOMID SOCKET EXPECT_FILE
 * Publishes a primary console for hosted domain DOMID, attaches to it
 * through the daemon's socket SOCKET ("ATTACH DOMID", asked again until the
 * daemon has taken the console and answers OK), writes ~12 KiB of numbered
 * lines through the 2 KiB ring (so flow control is exercised), checks that
 * the client saw all of it, sends a line from the client and checks that
 * the guest reads it from its input ring.
 * The text written is also saved to EXPECT_FILE so the caller can compare
 * it with the daemon's log.  Exit 0 and "console-test: ok" on success.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "console/consfront.h"
#include "hosted/hosted_dom.h"

/* Contract: prints the FAIL line and exits 1. */
static void __attribute__((noreturn)) die(const char *why)
{
    printf("console-test: FAIL: %s\n", why);
    exit(1);
}

/* Contract: a stream socket connected to path, or -1. */
static int connect_to(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Contract: the daemon's one-line answer on fd, "OK ..." or "ERR ..." (5 s limit). */
static void read_answer(int fd, char *line, size_t size)
{
    size_t n = 0;

    while (n + 1 < size) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (poll(&p, 1, 5000) <= 0 || recv(fd, line + n, 1, 0) != 1)
            break;
        if (line[n++] == '\n')
            break;
    }
    line[n] = 0;
}

/* Contract: a connection attached to domid's console through the daemon at path, or exits. */
static int attach(const char *path, unsigned domid)
{
    char hello[32], line[128];

    snprintf(hello, sizeof(hello), "ATTACH %u\n", domid);
    for (int i = 0; i < 500; i++) {
        int fd = connect_to(path);

        if (fd >= 0 && send(fd, hello, strlen(hello), 0) == (ssize_t)strlen(hello)) {
            read_answer(fd, line, sizeof(line));
            if (strncmp(line, "OK ", 3) == 0)
                return fd;
        }
        if (fd >= 0)
            close(fd);
        poll(NULL, 0, 10);
    }
    die("the daemon never attached the console");
}

/* Contract: writes all of text through the ring, waiting for space. */
static void write_all(struct consfront *c, struct hosted_dom *d,
                      const char *text, size_t len)
{
    size_t done = 0;

    for (int idle = 0; done < len; ) {
        unsigned n = consfront_write(c, text + done, (unsigned)(len - done));

        done += n;
        if (n == 0 && !hosted_dom_wait(d, 10) && ++idle > 500)
            die("console ring never drained");
    }
}

/* Contract: reads len bytes from the client socket (5 s limit). */
static void read_client(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 5000) <= 0)
            die("client did not receive the guest's output");
        n = recv(fd, buf + got, len - got, 0);
        if (n <= 0)
            die("client connection closed");
        got += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    static char text[16384], seen[16384];
    const char ping[] = "ping from the client\n";
    char in[64] = { 0 };
    struct xencons_interface *intf;
    struct consfront c;
    struct hosted_dom *d;
    evtchn_port_t port;
    size_t len = 0, got = 0;
    FILE *f;
    int fd;

    if (argc != 4)
        die("usage: console-test DOMID SOCKET EXPECT_FILE");
    d = hosted_dom_create((domid_t)atoi(argv[1]), 64, 1);
    if (!d || hosted_dom_console(d, &intf, &port) < 0)
        die("cannot set up the console");
    consfront_init(&c, hosted_dom_os(d), intf, port);
    fd = attach(argv[2], (unsigned)atoi(argv[1]));
    for (int i = 0; len < 12000; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "domain %s console line %d\n", argv[1], i);
    write_all(&c, d, text, len);
    read_client(fd, seen, len);
    if (memcmp(seen, text, len) != 0)
        die("client saw different bytes");
    if (send(fd, ping, strlen(ping), 0) != (ssize_t)strlen(ping))
        die("send");
    for (int i = 0; got < strlen(ping) && i < 500; i++) {
        got += consfront_read(&c, in + got, (unsigned)(sizeof(in) - 1 - got));
        if (got < strlen(ping))
            hosted_dom_wait(d, 10);
    }
    if (strcmp(in, ping) != 0)
        die("guest did not read the client's input");
    f = fopen(argv[3], "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
        die("cannot save the expected text");
    close(fd);
    hosted_dom_destroy(d);
    printf("console-test: ok\n");
    return 0;
}
