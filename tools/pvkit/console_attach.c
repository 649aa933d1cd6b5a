/*
 * console_attach: `pvkit console`'s end of the console daemon's socket
 * (consoled.h). Bytes are relayed as they come; the only byte interpreted
 * is Ctrl-] from the user, which detaches and is never sent.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <xenstore_lib.h> /* xs_write_all: write(2) until done, false if the other side is gone */

#include "consoled.h"

static int fail(int err, const char *what)
{
    fprintf(stderr, "pvkit: %s: %s\n", what, strerror(err));
    return -err;
}

/* Connects and says ATTACH; the connected socket, or -errno (reported). */
static int connect_console(const char *socket_path, uint32_t domid)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char line[160];
    size_t len = 0;
    int fd;

    if (strlen(socket_path) >= sizeof(sa.sun_path))
        return fail(ENAMETOOLONG, socket_path);
    strcpy(sa.sun_path, socket_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        int e = errno;
        close(fd);
        fprintf(stderr, "pvkit: %s: %s (is pvkit-consoled running?)\n", socket_path,
                strerror(e));
        return -e;
    }
    int n = snprintf(line, sizeof(line), "ATTACH %u\n", domid);
    if (write(fd, line, (size_t)n) != n) {
        close(fd);
        return fail(EPIPE, socket_path);
    }
    /* The answer line, read a byte at a time so no console byte is taken with it. */
    while (len < sizeof(line) - 1 && read(fd, &line[len], 1) == 1 && line[len] != '\n')
        len++;
    line[len] = 0;
    if (strncmp(line, "OK", 2)) {
        close(fd);
        fprintf(stderr, "pvkit: domain %u: %s\n", domid,
                strncmp(line, "ERR ", 4) ? "no answer from pvkit-consoled" : line + 4);
        return -ENOENT;
    }
    return fd;
}

/* Relays until detach or either end closes. */
static void relay(int sock)
{
    char buf[4096];
    struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                             { .fd = sock, .events = POLLIN } };

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(sock, buf, sizeof(buf));
            if (n <= 0 || !xs_write_all(STDOUT_FILENO, buf, (unsigned)n))
                return;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0)
                return;
            char *detach = memchr(buf, CONSOLE_DETACH, (size_t)n);
            if (!xs_write_all(sock, buf, detach ? (unsigned)(detach - buf) : (unsigned)n) || detach)
                return;
        }
    }
}

int console_attach(const char *socket_path, uint32_t domid)
{
    struct termios saved, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    int sock = connect_console(socket_path, domid);

    if (sock < 0)
        return sock;
    if (tty) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    relay(sock);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    close(sock);
    return 0;
}
