/*
 * Hypervisor console: levelled printk over the serial port, console input for
 * console_io, and panic.
 *
 * Output is synchronous and unbuffered so that the last message before a hang
 * or a crash is always visible. Newlines become CR LF for terminals.
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

void console_write(const char *s, size_t n)
{
    /* Hypervisor lock: every printk holds it, except on the boot CPU before the
     * APs start and in a panic. */
    static char last;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && last != '\r')
            serial_putc('\r');
        serial_putc(s[i]);
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
