/*
 * Tests hypervisor/common/lib.c: the formatter every log line and panic goes
 * through, the number parser behind the command line, and the string and
 * memory helpers. Bugs here corrupt or truncate output silently, or overflow
 * a buffer inside the hypervisor, so the tests pin exact output, the return
 * value (the untruncated length, as C's snprintf), termination on truncation,
 * and that nothing is written past the buffer (ASan guards every buffer; a
 * canary byte checks the in-bounds tail too).
 *
 * The functions are called by their pvkit_ names: lib_host.c renames the ones
 * that clash with the C library, and lib_host.h maps the plain names to them
 * in this file, so the calls below all exercise the hypervisor's code.
 */
#include "unit.h"
#include "lib_host.h"

/* Formats into a 64-byte buffer and checks both the text and the returned length. */
#define CHECK_FMT(expect, ...)                                          \
    do {                                                                \
        char buf_[64];                                                  \
        int n_ = snprintf(buf_, sizeof(buf_), __VA_ARGS__);             \
        assert_string_equal(buf_, expect);                              \
        assert_int_equal(n_, (int)strlen(expect));                      \
    } while (0)

static void fmt_plain_and_percent(void **state)
{
    (void)state;
    CHECK_FMT("", "%s", "");
    CHECK_FMT("hello", "hello");
    CHECK_FMT("100%", "100%%");
    CHECK_FMT("a=x!", "a=%c!", 'x');
}

static void fmt_signed(void **state)
{
    (void)state;
    CHECK_FMT("0", "%d", 0);
    CHECK_FMT("42", "%d", 42);
    CHECK_FMT("-42", "%i", -42);
    CHECK_FMT("-2147483648", "%d", (int)INT32_MIN);
    CHECK_FMT("2147483647", "%d", INT32_MAX);
    CHECK_FMT("-9223372036854775808", "%ld", (long)INT64_MIN);
    CHECK_FMT("9223372036854775807", "%lld", (long long)INT64_MAX);
    CHECK_FMT("-1", "%ld", -1L);
}

static void fmt_unsigned_and_hex(void **state)
{
    (void)state;
    CHECK_FMT("4294967295", "%u", UINT32_MAX);
    CHECK_FMT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    CHECK_FMT("ffffffff", "%x", UINT32_MAX);
    CHECK_FMT("DEADBEEF", "%X", 0xdeadbeefu);
    CHECK_FMT("ffffffff80000000", "%lx", 0xffffffff80000000ul);
    CHECK_FMT("123", "%zu", (size_t)123);
    CHECK_FMT("0", "%x", 0u);
}

static void fmt_width_and_flags(void **state)
{
    (void)state;
    CHECK_FMT("   42", "%5d", 42);
    CHECK_FMT("00042", "%05d", 42);
    CHECK_FMT("42   |", "%-5d|", 42);
    CHECK_FMT("  -42", "%5d", -42);
    CHECK_FMT("-0042", "%05d", -42);
    CHECK_FMT("-42  |", "%-5d|", -42);
    CHECK_FMT("0000beef", "%08x", 0xbeefu);
    CHECK_FMT("123456", "%3d", 123456);
    CHECK_FMT("  abc|", "%5s|", "abc");
    CHECK_FMT("abc  |", "%-5s|", "abc");
    CHECK_FMT("abcdef", "%2s", "abcdef");
    CHECK_FMT("00000000000000ff", "%016lx", 0xfful);
}

static void fmt_pointer(void **state)
{
    (void)state;
    CHECK_FMT("0x0000000000001000", "%p", (void *)0x1000);
    CHECK_FMT("0xffff830000100000", "%p", (void *)0xffff830000100000ul);
}

/* Passed through a volatile so the compiler cannot warn about a literal NULL %s. */
static const char *volatile null_string;

static void fmt_string_null(void **state)
{
    (void)state;
    CHECK_FMT("[(null)]", "[%s]", null_string);
}

static void fmt_unknown_conversion_is_echoed(void **state)
{
    (void)state;
    char buf[16];
    const char *volatile fmt = "a%qb";
    assert_int_equal(snprintf(buf, sizeof(buf), fmt), 4);
    assert_string_equal(buf, "a%qb");
    /* A lone '%' at the end must not read past the terminator. */
    fmt = "ab%";
    assert_int_equal(snprintf(buf, sizeof(buf), fmt), 3);
    assert_string_equal(buf, "ab%");
}

static void fmt_truncation(void **state)
{
    (void)state;
    char buf[8];

    memset(buf, 'X', sizeof(buf));
    /* 5 bytes fit in a 6-byte window; byte 6 and 7 must be untouched. */
    assert_int_equal(snprintf(buf, 6, "%s-%d", "hello", 12345), 11);
    assert_string_equal(buf, "hello");
    assert_int_equal(buf[6], 'X');
    assert_int_equal(buf[7], 'X');

    /* Exact fit: the terminator takes the last byte. */
    assert_int_equal(snprintf(buf, sizeof(buf), "%s", "1234567"), 7);
    assert_string_equal(buf, "1234567");
    assert_int_equal(snprintf(buf, sizeof(buf), "%s", "12345678"), 8);
    assert_string_equal(buf, "1234567");

    /* size 1: only the terminator. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(snprintf(buf, 1, "abc"), 3);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 'X');

    /* size 0: nothing written at all, length still reported. */
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(snprintf(buf, 0, "%d", 123), 3);
    assert_int_equal(buf[0], 'X');
    /* ... even with a NULL buffer. */
    assert_int_equal(snprintf(NULL, 0, "%lx", 0xabcdeful), 6);
}

static void fmt_truncation_of_padding_and_numbers(void **state)
{
    (void)state;
    char *buf = malloc(4); /* exact size: ASan reports any write past it */
    assert_non_null(buf);
    assert_int_equal(snprintf(buf, 4, "%020d", -5), 20);
    assert_string_equal(buf, "-00");
    assert_int_equal(snprintf(buf, 4, "%-10s|", "ab"), 11);
    assert_string_equal(buf, "ab ");
    assert_int_equal(snprintf(buf, 4, "%p", (void *)1), 18);
    assert_string_equal(buf, "0x0");
    free(buf);
}

static int call_vsnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static void vsnprintf_mixed_arguments(void **state)
{
    (void)state;
    char buf[96];
    /* Mixing 32- and 64-bit arguments checks that each conversion takes its own size. */
    int n = call_vsnprintf(buf, sizeof(buf), "%d %lx %u %s %ld %c %x", -1,
                           0x123456789abcul, 7u, "s", -5L, 'z', 0x10u);
    assert_string_equal(buf, "-1 123456789abc 7 s -5 z 10");
    assert_int_equal(n, (int)strlen(buf));
}

/* A string parse_u64 accepts: the value and what is left after it. */
struct u64_case {
    const char *in;
    uint64_t want;
    const char *rest;
};

/* Contract: each of the N cases parses to its value, the cursor at its rest. */
static void expect_u64(const struct u64_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *s = c[i].in;
        uint64_t v = 0;

        assert_true(parse_u64(&s, &v));
        assert_true(v == c[i].want);
        assert_string_equal(s, c[i].rest);
    }
}

static void parse_u64_decimal(void **state)
{
    static const struct u64_case cases[] = {
        { "12345 rest", 12345, " rest" },
        { "0", 0, "" },
        { "18446744073709551615", UINT64_MAX, "" },
        { "007x", 7, "x" },
    };
    (void)state;
    expect_u64(cases, sizeof(cases) / sizeof(cases[0]));
}

static void parse_u64_hex(void **state)
{
    static const struct u64_case cases[] = {
        { "0x1fG", 0x1f, "G" },
        { "0XABCdef", 0xabcdef, "" },
        { "0xffffffffffffffff", UINT64_MAX, "" },
        { "0xg", 0, "xg" },  /* "0x" without a hex digit: the number 0, then "x" */
        { "12ab", 12, "ab" }, /* hex digits are not decimal digits */
    };
    (void)state;
    expect_u64(cases, sizeof(cases) / sizeof(cases[0]));
}

static void parse_u64_overflow_and_no_digits(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "x", " 1", "-1", "+1", "abc",
        "18446744073709551616",        /* UINT64_MAX + 1 */
        "99999999999999999999",
        "0x10000000000000000",         /* 17 hex digits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *s = bad[i];
        uint64_t v = 0x5a5a;
        assert_false(parse_u64(&s, &v));
        /* A failed parse leaves both the cursor and the output alone. */
        assert_ptr_equal(s, bad[i]);
        assert_int_equal(v, 0x5a5a);
    }
}

static void strlcpy_truncates_and_terminates(void **state)
{
    (void)state;
    char buf[8];

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(strlcpy(buf, "abc", sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
    assert_int_equal(buf[4], 'X');

    assert_int_equal(strlcpy(buf, "0123456789", sizeof(buf)), 10);
    assert_string_equal(buf, "0123456");

    assert_int_equal(strlcpy(buf, "1234567", sizeof(buf)), 7);
    assert_string_equal(buf, "1234567");

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(strlcpy(buf, "abc", 1), 3);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 'X');

    memset(buf, 'X', sizeof(buf));
    assert_int_equal(strlcpy(buf, "abc", 0), 3);
    assert_int_equal(buf[0], 'X');

    assert_int_equal(strlcpy(buf, "", sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

static void fill_pattern(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 7 + 1);
}

/* Resets the buffer under test and its reference copy to the same n bytes. */
static void reset_pair(unsigned char *buf, unsigned char *ref, const unsigned char *from, size_t n)
{
    __builtin_memcpy(buf, from, n);
    __builtin_memcpy(ref, from, n);
}

/* The function under test returned want and left buf as the reference. */
static void check_pair(const void *ret, const void *want, const unsigned char *buf,
                       const unsigned char *ref, size_t n)
{
    assert_ptr_equal(ret, want);
    assert_memory_equal(buf, ref, n);
}

/* memmove must behave as if through a temporary buffer, whatever the overlap. */
static void memmove_overlap(void **state)
{
    (void)state;
    enum { N = 64 };
    unsigned char buf[N], ref[N], orig[N];

    fill_pattern(orig, N);
    for (size_t dst = 0; dst < 24; dst++) {
        for (size_t src = 0; src < 24; src++) {
            for (size_t len = 0; len <= 40; len += 5) {
                unsigned char tmp[N];

                reset_pair(buf, ref, orig, N);
                __builtin_memcpy(tmp, orig + src, len);
                __builtin_memcpy(ref + dst, tmp, len);
                check_pair(memmove(buf + dst, buf + src, len), buf + dst, buf, ref, N);
            }
        }
    }
}

static void memcpy_memset_memcmp(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    fill_pattern(a, sizeof(a));
    assert_ptr_equal(memset(b, 0xee, sizeof(b)), b);
    for (size_t i = 0; i < sizeof(b); i++)
        assert_int_equal(b[i], 0xee);
    assert_ptr_equal(memcpy(b + 1, a, 30), b + 1);
    assert_int_equal(b[0], 0xee);
    assert_int_equal(b[31], 0xee);
    assert_int_equal(memcmp(b + 1, a, 30), 0);
    assert_int_equal(memcmp(a, b, 0), 0);
    /* memcmp compares bytes as unsigned. */
    unsigned char lo[1] = { 0x01 }, hi[1] = { 0x80 };
    assert_true(memcmp(lo, hi, 1) < 0);
    assert_true(memcmp(hi, lo, 1) > 0);
}

/* Word-at-a-time paths: every alignment and length, guard bytes untouched. */
static void memcpy_memset_alignments(void **state)
{
    (void)state;
    enum { N = 96 };
    unsigned char src[N], dst[N], ref[N], guard[N];

    fill_pattern(src, N);
    __builtin_memset(guard, 0x5a, N);
    for (size_t d = 0; d < 16; d++) {
        for (size_t len = 0; len <= 64; len++) {
            for (size_t s = 0; s < 16; s++) {
                reset_pair(dst, ref, guard, N);
                __builtin_memcpy(ref + d, src + s, len);
                check_pair(memcpy(dst + d, src + s, len), dst + d, dst, ref, N);
            }
            reset_pair(dst, ref, guard, N);
            __builtin_memset(ref + d, 0xc3, len);
            check_pair(memset(dst + d, 0xc3, len), dst + d, dst, ref, N);
        }
    }
}

static void string_compare_and_search(void **state)
{
    (void)state;
    assert_int_equal(strlen(""), 0);
    assert_int_equal(strlen("abc"), 3);
    assert_int_equal(strnlen("abcdef", 3), 3);
    assert_int_equal(strnlen("ab", 8), 2);
    assert_int_equal(strcmp("abc", "abc"), 0);
    assert_true(strcmp("abc", "abd") < 0);
    assert_true(strcmp("ab", "abc") < 0);
    assert_true(strcmp("\x80", "a") > 0); /* unsigned comparison */
    assert_int_equal(strncmp("abcX", "abcY", 3), 0);
    assert_true(strncmp("abcX", "abcY", 4) < 0);
    assert_int_equal(strncmp("ab", "ab", 10), 0);
    assert_int_equal(strncmp("a", "b", 0), 0);
    const char *s = "key=value";
    assert_ptr_equal(strchr(s, '='), s + 3);
    assert_null(strchr(s, '#'));
    assert_ptr_equal(strchr(s, 0), s + 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fmt_plain_and_percent),
        cmocka_unit_test(fmt_signed),
        cmocka_unit_test(fmt_unsigned_and_hex),
        cmocka_unit_test(fmt_width_and_flags),
        cmocka_unit_test(fmt_pointer),
        cmocka_unit_test(fmt_string_null),
        cmocka_unit_test(fmt_unknown_conversion_is_echoed),
        cmocka_unit_test(fmt_truncation),
        cmocka_unit_test(fmt_truncation_of_padding_and_numbers),
        cmocka_unit_test(vsnprintf_mixed_arguments),
        cmocka_unit_test(parse_u64_decimal),
        cmocka_unit_test(parse_u64_hex),
        cmocka_unit_test(parse_u64_overflow_and_no_digits),
        cmocka_unit_test(strlcpy_truncates_and_terminates),
        cmocka_unit_test(memmove_overlap),
        cmocka_unit_test(memcpy_memset_memcmp),
        cmocka_unit_test(memcpy_memset_alignments),
        cmocka_unit_test(string_compare_and_search),
    };
    return UNIT_RUN("lib", tests);
}
