/*
 * console_io: guest access to the hypervisor console.
 *
 * Any domain may write (the output of domains other than 0 is prefixed with
 * "(dN) " at each line start, so interleaved output stays attributable); only
 * a privileged domain may read, since input belongs to the console owner.
 * Writes are copied in bounded chunks, BATCH_PER_CALL / BYTE_COST bytes per
 * piece of the hypercall (the rest is continued with the count and buffer
 * advanced, as Xen does); a bad buffer stops the write with -EFAULT after
 * the part that was readable has been printed, as Xen does.
 * Unprivileged domains share the serial line with everybody, so their
 * output (console_io and the console ring) is rate-limited: a write over
 * the limit is cut short (still returning 0) and a rate-limited notice says
 * so; a flood therefore costs the hypervisor no more than the limit.
 */
#include "pvkit/console.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/time.h"

#define CHUNK 256
#define CONSOLE_BURST_BYTES (128u * 1024)
#define CONSOLE_BYTES_PER_S (32u * 1024)
#define NS_PER_S 1000000000ull
#define BYTE_COST 4 /* budget units per byte: serial output is slow (9 us under TCG) */

/* How many of `n` bytes domain `d` may print now; takes them from its budget. */
static size_t console_budget_take(struct domain *d, size_t n)
{
    uint64_t now = system_time_ns();

    if (d->privileged)
        return n;
    if (!d->console_refilled_at) {
        d->console_bytes_left = CONSOLE_BURST_BYTES;
        d->console_refilled_at = now;
    }
    /* At most a full burst's worth of time counts, so the product fits. */
    uint64_t elapsed = MIN(now - d->console_refilled_at,
                           NS_PER_S * CONSOLE_BURST_BYTES / CONSOLE_BYTES_PER_S);
    uint64_t refill = elapsed * CONSOLE_BYTES_PER_S / NS_PER_S;
    if (refill) {
        d->console_bytes_left = (uint32_t)MIN(d->console_bytes_left + refill,
                                              (uint64_t)CONSOLE_BURST_BYTES);
        d->console_refilled_at = now;
    }
    size_t ok = MIN(n, (size_t)d->console_bytes_left);
    d->console_bytes_left -= (uint32_t)ok;
    if (ok < n)
        printk_ratelimited(LOG_WARN, "\n(pvkit) d%u: console output over %u bytes/s, "
                           "dropped\n", d->id, CONSOLE_BYTES_PER_S);
    return ok;
}

size_t console_emit_guest_text(struct domain *d, const char *buf, size_t n)
{
    char prefix[16];
    int plen = snprintf(prefix, sizeof(prefix), "(d%u) ", d->id);

    n = console_budget_take(d, n);
    for (size_t i = 0; i < n; i++) {
        if (d->id != 0 && d->console_at_line_start)
            console_write(prefix, (size_t)plen);
        console_write(&buf[i], 1);
        d->console_at_line_start = buf[i] == '\n';
    }
    return n;
}

/* Prints one piece of a CONSOLEIO_write and continues the rest; 0 or -EFAULT. */
static long console_write_from_guest(struct domain *d, uint64_t count, uint64_t buf_va)
{
    char chunk[CHUNK];
    uint64_t piece = hypercall_claim(count, BYTE_COST);

    for (uint64_t done = 0; done < piece;) {
        size_t n = (size_t)MIN(piece - done, (uint64_t)CHUNK);
        if (copy_from_guest(chunk, buf_va + done, n))
            return -XEN_EFAULT;
        if (console_emit_guest_text(d, chunk, n) < n)
            return 0; /* over the rate limit: the rest is dropped unread */
        done += n;
    }
    if (piece < count) {
        const uint64_t rest[5] = { CONSOLEIO_write, count - piece, buf_va + piece };
        return hypercall_continue(__HYPERVISOR_console_io, rest);
    }
    return 0;
}

static long console_read_to_guest(struct domain *d, uint64_t count, uint64_t buf_va)
{
    char chunk[CHUNK];
    long total = 0;

    if (!d->privileged)
        return -XEN_EPERM;
    if (!guest_range_ok(buf_va, count))
        return -XEN_EFAULT;
    while ((uint64_t)total < count) {
        size_t n = console_read(chunk, (size_t)MIN(count - (uint64_t)total, (uint64_t)CHUNK));
        if (n == 0)
            break;
        if (copy_to_guest(buf_va + (uint64_t)total, chunk, n))
            return -XEN_EFAULT;
        total += (long)n;
    }
    return total;
}

long do_console_io(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], count = (uint32_t)args[1], buf = args[2];

    switch (cmd) {
    case CONSOLEIO_write:
        return console_write_from_guest(v->domain, count, buf);
    case CONSOLEIO_read:
        return console_read_to_guest(v->domain, count, buf);
    default:
        return -XEN_ENOSYS;
    }
}
