/*
 * The pvkit test-kernel framework: what a test kernel's C code uses.
 *
 * A test kernel defines `void test_main(void)`. The framework's entry saves
 * start_info, runs test_main, prints the final lines
 *     N passed, N failed
 *     PASS            (or FAIL)
 * on the Xen console (console_io write) and shuts the domain down with
 * SHUTDOWN_poweroff if every check passed, SHUTDOWN_crash otherwise. A test
 * that wants to end another way (e.g. to test shutdown reasons) sets
 * guest_shutdown_reason before returning; a failed check still forces crash.
 *
 * Checks: EXPECT(cond) and EXPECT_EQ(got, want) count one pass or one fail
 * each and name the failing expression, file and line; TEST("name") starts
 * a named group in the log. Nothing here allocates or traps.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include "hypercall.h"

/* The start_info the builder handed us in RSI (set before test_main). */
extern start_info_t *guest_start_info;

/* The SCHEDOP_shutdown reason used when every check passed. */
extern unsigned int guest_shutdown_reason;

/* Provided by each test kernel: runs its checks. */
void test_main(void);

/* Formats like printf (%s %c %d %i %u %x %p %%, l/ll, width, 0-pad) to the console. */
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes LEN bytes of S to the console with CONSOLEIO_write. */
void guest_write(const char *s, size_t len);

/* Starts a named group of checks in the log. */
void test_begin(const char *name);

/* Runs the N functions of TESTS in order (a kernel's list of check groups). */
void test_run_all(void (*const tests[])(void), unsigned int n);

/* Counts a pass if OK, else a fail naming EXPR at FILE:LINE; returns OK. */
int test_check(int ok, const char *expr, const char *file, int line);

/* Like test_check for GOT == WANT; a failure prints both values. */
int test_check_eq(long got, long want, const char *expr, const char *file, int line);

/* Prints the summary and verdict and shuts down; never returns. */
void test_finish(void) __attribute__((noreturn));

/*
 * Issues SCHEDOP_shutdown(REASON). If that returns (refused), reports it and
 * falls back to SHUTDOWN_crash so the run ends visibly; if even that
 * returns, yields forever (the launcher's timeout ends the run).
 */
void guest_shutdown(unsigned int reason) __attribute__((noreturn));

/* CPUID through the PV forced-emulation prefix (ud2; "xen"; cpuid). */
void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

/*
 * A checksum of the 512 entries of the initial L4 (start_info's pt_base),
 * to see that nothing wrote to it (it is mapped read-only to the guest).
 */
unsigned long guest_l4_checksum(void);

/* Freestanding string helpers with the usual C library meanings. */
size_t guest_strlen(const char *s);
size_t guest_strnlen(const char *s, size_t max);
int guest_strcmp(const char *a, const char *b);
int guest_strncmp(const char *a, const char *b, size_t n);
const char *guest_strstr(const char *hay, const char *needle);
int guest_memcmp(const void *a, const void *b, size_t n);

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

#define TEST(name) test_begin(name)
#define EXPECT(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)
#define EXPECT_EQ(got, want) \
    test_check_eq((long)(got), (long)(want), #got " == " #want, __FILE__, __LINE__)

#endif
