/*
 * The hypervisor's console: formatted, levelled log output to the serial
 * port, and the input side the initial domain reads through console_io.
 * Messages below the configured level (loglvl=) are dropped. Guest-triggered
 * messages go through printk_ratelimited() so a hostile guest cannot flood it.
 */
#ifndef PVKIT_CONSOLE_H
#define PVKIT_CONSOLE_H

#include "pvkit/lib.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void console_init(uint16_t serial_port);
void console_set_level(enum log_level lvl);
void console_write(const char *s, size_t n);

/*
 * Copies up to room bytes of the log ring to dst, from byte *index if
 * from_index (clamped to the oldest byte kept) else from the oldest, and sets
 * *index just past the last byte copied. Returns the count. Hypervisor lock.
 */
uint32_t log_ring_read(uint32_t *index, bool from_index, char *dst, uint32_t room);
/*
 * Forgets the bytes before byte `upto` (one a read stopped at), as Xen's
 * clear does: bytes not yet read stay. An index outside the ring is ignored.
 */
void log_ring_clear(uint32_t upto);
/* Returns up to n characters of input for the privileged domain, without blocking. */
size_t console_read(char *buf, size_t n);
/* Reads the serial port and routes what arrived (common/console_input.c). */
void console_poll(void);
/* Gives the console input to a domain. */
void console_set_focus(uint16_t domid);

#define CONSOLE_POLL_NS 20000000ull /* 20 ms */

struct domain;
/*
 * Prints guest output, prefixed "(dN) " at line starts for domains other
 * than 0. An unprivileged domain's output is rate-limited (a burst, then a
 * steady rate of bytes per second); what is over the limit is dropped.
 * Returns how many bytes were printed.
 */
size_t console_emit_guest_text(struct domain *d, const char *buf, size_t n);

void printk(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* As printk, but at most a burst of messages per second of TSC time per call site. */
#define printk_ratelimited(lvl, ...)                                          \
    do {                                                                      \
        static struct ratelimit rl_state_;                                    \
        if (ratelimit_ok(&rl_state_))                                         \
            printk(lvl, __VA_ARGS__);                                         \
    } while (0)

struct ratelimit {
    uint64_t window_start;
    unsigned int count;
};
bool ratelimit_ok(struct ratelimit *rl);

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

struct domain;
/*
 * Makes the hypervisor the backend of a domU console ring (common/console_ring.c,
 * holding a writable type reference on the ring frame for the domain's life);
 * returns the guest's port, or -errno with nothing taken. Hypervisor lock.
 */
int console_ring_attach(struct domain *d, uint64_t ring_mfn);

#endif
