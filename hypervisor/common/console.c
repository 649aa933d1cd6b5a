/*
 * Hypervisor console: levelled printk over the serial port, console input for
 * console_io, the log ring the toolstack reads (sysctl readconsole), and
 * panic.
 *
 * Output is synchronous and unbuffered so that the last message before a hang
 * or a crash is always visible. Newlines become CR LF for terminals. Every
 * byte written also goes into a 16 KiB ring, as Xen's console ring: bytes
 * are numbered from boot (a 32-bit index that wraps), the ring holds the
 * last LOG_RING_SIZE of them, and a reader names where it wants to start.
 */
#include "pvkit/console.h"
#include "pvkit/layout.h"
#include "pvkit/serial.h"
#include "pvkit/x86.h"

/* Set once at boot, before the APs start; read-only afterwards. */
static enum log_level console_level = LOG_INFO;

void console_init(uint16_t serial_port)
{
    serial_init(serial_port);
}

void console_set_level(enum log_level lvl)
{
    console_level = lvl;
}

#define LOG_RING_SIZE 16384u /* a power of two */

/* Hypervisor lock (written by console_write, read by log_ring_read). */
static char log_ring[LOG_RING_SIZE];
static uint32_t log_ring_prod;      /* bytes ever written (mod 2^32) */
static uint32_t log_ring_first;     /* the oldest byte a reader may get (after a clear) */

static void log_ring_put(char c)
{
    log_ring[log_ring_prod % LOG_RING_SIZE] = c;
    log_ring_prod++;
    if (log_ring_prod - log_ring_first > LOG_RING_SIZE)
        log_ring_first = log_ring_prod - LOG_RING_SIZE;
}

uint32_t log_ring_read(uint32_t *index, bool from_index, char *dst, uint32_t room)
{
    uint32_t start = from_index ? *index : log_ring_first;
    if (start - log_ring_first > log_ring_prod - log_ring_first)
        start = log_ring_first; /* before the oldest byte kept, or in the future */
    uint32_t n = MIN(room, log_ring_prod - start);
    for (uint32_t i = 0; i < n; i++)
        dst[i] = log_ring[(start + i) % LOG_RING_SIZE];
    *index = start + n;
    return n;
}

void log_ring_clear(uint32_t upto)
{
    if (upto - log_ring_first <= log_ring_prod - log_ring_first)
        log_ring_first = upto;
}

void console_write(const char *s, size_t n)
{
    /* Hypervisor lock: every printk holds it, except on the boot CPU before the
     * APs start and in a panic. */
    static char last;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && last != '\r')
            serial_putc('\r');
        serial_putc(s[i]);
        log_ring_put(s[i]);
        last = s[i];
    }
}

static void vprintk(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}

void printk(enum log_level lvl, const char *fmt, ...)
{
    if (lvl > console_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

bool ratelimit_ok(struct ratelimit *rl)
{
    const uint64_t window = 1ull << 31; /* ~1 s of TSC on the machines we target */
    const unsigned int burst = 10;
    uint64_t now = rdtsc();

    if (now - rl->window_start > window) {
        rl->window_start = now;
        rl->count = 0;
    }
    return rl->count++ < burst;
}

void panic(const char *fmt, ...)
{
    va_list ap;
    console_write("(pvkit) PANIC: ", 15);
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    console_write("\n", 1);
    outb(DEBUG_EXIT_PORT, EXIT_PANIC);
    halt_forever();
}
