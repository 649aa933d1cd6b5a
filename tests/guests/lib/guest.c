/*
 * The pvkit test-kernel framework: start, console output, checks, verdict.
 *
 * guest_start is called from entry.S on our own stack with the start_info
 * pointer; it runs test_main and then test_finish. All output goes through
 * CONSOLEIO_write in bounded chunks from a static buffer (single vCPU, no
 * events, so no locking). The pass/fail counters only grow; the verdict is
 * PASS exactly when at least one check ran and none failed.
 */
#include "guest.h"

start_info_t *guest_start_info;
unsigned int guest_shutdown_reason = SHUTDOWN_poweroff;

static unsigned long test_passed;
static unsigned long test_failed;

/* Entry from entry.S: records start_info, runs the test, never returns. */
void guest_start(start_info_t *si) __attribute__((noreturn));
void guest_start(start_info_t *si)
{
    guest_start_info = si;
    test_main();
    test_finish();
}

void guest_write(const char *s, size_t len)
{
    while (len > 0) {
        long n = hyp_console_io(CONSOLEIO_write, len, s);
        if (n < 0)
            return;
        /* Xen returns 0 for a complete write; a positive count is progress. */
        if (n == 0 || (size_t)n > len)
            n = (long)len;
        s += n;
        len -= (size_t)n;
    }
}

/* The output buffer of guest_printf and how much of it is used. */
static char out_buf[512];
static size_t out_len;

/* Sends the buffered output to the console and empties the buffer. */
static void out_flush(void)
{
    guest_write(out_buf, out_len);
    out_len = 0;
}

/* Appends one character, flushing when the buffer fills. */
static void out_char(char c)
{
    if (out_len == sizeof(out_buf))
        out_flush();
    out_buf[out_len++] = c;
}

/* Appends S, left-padded with PAD to WIDTH characters. */
static void out_padded(const char *s, int width, char pad)
{
    for (int n = (int)guest_strlen(s); n < width; n++)
        out_char(pad);
    while (*s)
        out_char(*s++);
}

/* Appends V in BASE (10 or 16), with a '-' when NEG, padded to WIDTH. */
static void out_number(unsigned long long v, unsigned base, int neg, int width, char pad)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);

    *--p = '\0';
    do {
        *--p = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg && pad == '0') {
        out_char('-');
        width--;
    } else if (neg) {
        *--p = '-';
    }
    out_padded(p, width, pad);
}

/* Appends one signed conversion of length LONGS (0, 1 or 2 'l's). */
static void out_signed(va_list *ap, int longs, int width, char pad)
{
    long long v = longs ? va_arg(*ap, long long) : va_arg(*ap, int);
    unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    out_number(mag, 10, v < 0, width, pad);
}

/* Appends one unsigned conversion in BASE of length LONGS. */
static void out_unsigned(va_list *ap, int longs, unsigned base, int width, char pad)
{
    unsigned long long v = longs ? va_arg(*ap, unsigned long long) : va_arg(*ap, unsigned);

    out_number(v, base, 0, width, pad);
}

/* Appends the conversion CONV (after flags/width/length) taking from AP. */
static void out_conversion(char conv, va_list *ap, int longs, int width, char pad)
{
    const char *s;

    switch (conv) {
    case 'd': case 'i': out_signed(ap, longs, width, pad); break;
    case 'u': out_unsigned(ap, longs, 10, width, pad); break;
    case 'x': out_unsigned(ap, longs, 16, width, pad); break;
    case 'p':
        out_padded("0x", 0, ' ');
        out_number((unsigned long)va_arg(*ap, void *), 16, 0, 16, '0');
        break;
    case 'c': out_char((char)va_arg(*ap, int)); break;
    case 's':
        s = va_arg(*ap, const char *);
        out_padded(s ? s : "(null)", width, ' ');
        break;
    default: out_char('%'); out_char(conv); break;
    }
}

void guest_printf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        int width = 0, longs = 0;
        char pad = ' ';

        if (*fmt != '%') {
            out_char(*fmt);
            continue;
        }
        if (*++fmt == '%') {
            out_char('%');
            continue;
        }
        if (*fmt == '0')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            longs++, fmt++;
        if (!*fmt)
            break;
        out_conversion(*fmt, &ap, longs, width, pad);
    }
    va_end(ap);
    out_flush();
}

void test_begin(const char *name)
{
    guest_printf("== %s\n", name);
}

void test_run_all(void (*const tests[])(void), unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        tests[i]();
}

int test_check(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        test_passed++;
        guest_printf("ok   %s\n", expr);
    } else {
        test_failed++;
        guest_printf("FAIL %s:%d: %s\n", file, line, expr);
    }
    return ok;
}

int test_check_eq(long got, long want, const char *expr, const char *file, int line)
{
    int ok = got == want;

    if (ok) {
        test_passed++;
        guest_printf("ok   %s\n", expr);
    } else {
        test_failed++;
        guest_printf("FAIL %s:%d: %s: got %ld (0x%lx), want %ld (0x%lx)\n",
                     file, line, expr, got, got, want, want);
    }
    return ok;
}

void test_finish(void)
{
    int pass = test_failed == 0 && test_passed > 0;

    guest_printf("%lu passed, %lu failed\n", test_passed, test_failed);
    guest_printf("%s\n", pass ? "PASS" : "FAIL");
    guest_shutdown(pass ? guest_shutdown_reason : SHUTDOWN_crash);
}

void guest_shutdown(unsigned int reason)
{
    struct sched_shutdown sd = { .reason = reason };
    long rc = hyp_sched_op(SCHEDOP_shutdown, &sd);

    guest_printf("shutdown(%u) returned %ld\n", reason, rc);
    sd.reason = SHUTDOWN_crash;
    rc = hyp_sched_op(SCHEDOP_shutdown, &sd);
    guest_printf("shutdown(crash) returned %ld\n", rc);
    for (;;)
        hyp_sched_op(SCHEDOP_yield, NULL);
}

void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    uint32_t a = leaf, b, c = subleaf, d;

    __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                     : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    regs[0] = a;
    regs[1] = b;
    regs[2] = c;
    regs[3] = d;
}

unsigned long guest_l4_checksum(void)
{
    const unsigned long *l4 = (const unsigned long *)guest_start_info->pt_base;
    unsigned long sum = 0;

    for (int i = 0; i < 512; i++)
        sum = sum * 31 + l4[i];
    return sum;
}
