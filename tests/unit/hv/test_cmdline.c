/*
 * Tests hypervisor/common/cmdline.c: the hypervisor command line (console=,
 * loglvl=, dom0_mem=, dom0_max_vcpus=, maxcpus=, audit=, the domain types of
 * initial_domain_type= and domU=...,type=), the size parser, and the helper that
 * drops the loader's file name. The parser must never fail as a whole: a
 * typo is reported through the callback, with the exact word, and skipped,
 * while every good word still takes effect and options not on the line keep
 * their previous values. Sizes follow Xen (no suffix means KiB) and overflow
 * must be refused, not wrapped into a small memory size.
 */
#include <string.h>
#include "unit.h"
#include "pvkit/bootinfo.h"

/* Words reported through the bad-word callback, copied with their exact length. */
static char bad_words[8][64];
static size_t bad_lens[8];
static int nr_bad_calls;

static void record_bad(const char *word, size_t len)
{
    assert_true(nr_bad_calls < 8);
    assert_true(len < sizeof(bad_words[0]));
    memcpy(bad_words[nr_bad_calls], word, len);
    bad_words[nr_bad_calls][len] = 0;
    bad_lens[nr_bad_calls] = len;
    nr_bad_calls++;
}

static const struct hv_options defaults = {
    .serial_port = 0x3f8, .loglvl = LOG_INFO, .dom0_mem = 0, .dom0_vcpus = 0,
};

static int reset(void **state)
{
    (void)state;
    memset(bad_words, 0, sizeof(bad_words));
    memset(bad_lens, 0, sizeof(bad_lens));
    nr_bad_calls = 0;
    return 0;
}

/* Parses line from the defaults; checks the return value matches the callbacks. */
static struct hv_options parse(const char *line)
{
    struct hv_options o = defaults;
    int n = cmdline_parse(line, &o, record_bad);
    assert_int_equal(n, nr_bad_calls);
    return o;
}

static void assert_defaults(const struct hv_options *o)
{
    assert_int_equal(o->serial_port, defaults.serial_port);
    assert_int_equal(o->loglvl, defaults.loglvl);
    assert_int_equal(o->dom0_mem, defaults.dom0_mem);
    assert_int_equal(o->dom0_vcpus, defaults.dom0_vcpus);
    assert_int_equal(o->max_cpus, defaults.max_cpus);
}

/* Contract: each of the N words, alone on the line, is reported bad (once,
 * as itself) and leaves every option at its default. */
static void expect_words_refused(const char *const *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        reset(NULL);
        struct hv_options o = parse(bad[i]);
        assert_int_equal(nr_bad_calls, 1);
        assert_string_equal(bad_words[0], bad[i]);
        assert_defaults(&o);
    }
}

static void empty_and_blank_lines(void **state)
{
    (void)state;
    struct hv_options o = parse("");
    assert_int_equal(nr_bad_calls, 0);
    assert_defaults(&o);
    o = parse("     ");
    assert_int_equal(nr_bad_calls, 0);
    assert_defaults(&o);
}

static void console_values(void **state)
{
    (void)state;
    struct hv_options o = parse("console=com2");
    assert_int_equal(o.serial_port, 0x2f8);
    o = parse("console=none");
    assert_int_equal(o.serial_port, 0);
    o = parse("console=none console=com1");
    assert_int_equal(o.serial_port, 0x3f8);
    assert_int_equal(nr_bad_calls, 0);

    static const char *const bad[] = { "console=com3", "console=", "console=com1x",
                                       "console=com", "console", "Console=com2" };
    expect_words_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

static void loglvl_values(void **state)
{
    (void)state;
    static const struct { const char *line; enum log_level lvl; } good[] = {
        { "loglvl=error", LOG_ERR }, { "loglvl=warning", LOG_WARN },
        { "loglvl=info", LOG_INFO }, { "loglvl=debug", LOG_DEBUG },
        { "loglvl=all", LOG_DEBUG },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hv_options o = defaults;
        o.loglvl = good[i].lvl == LOG_ERR ? LOG_DEBUG : LOG_ERR;
        assert_int_equal(cmdline_parse(good[i].line, &o, record_bad), 0);
        assert_int_equal(o.loglvl, good[i].lvl);
    }
    struct hv_options o = parse("loglvl=errors loglvl=warn loglvl=");
    assert_int_equal(nr_bad_calls, 3);
    assert_int_equal(o.loglvl, LOG_INFO);
}

static void dom0_mem_sizes(void **state)
{
    (void)state;
    static const struct { const char *line; uint64_t bytes; } good[] = {
        { "dom0_mem=512M", 512ull << 20 },
        { "dom0_mem=512m", 512ull << 20 },
        { "dom0_mem=1G", 1ull << 30 },
        { "dom0_mem=65536", 64ull << 20 },       /* no suffix: KiB, as Xen */
        { "dom0_mem=4096K", 4ull << 20 },
        { "dom0_mem=1T", 1ull << 40 },
        { "dom0_mem=1048576B", 1ull << 20 },
        { "dom0_mem=0x100M", 256ull << 20 },
        { "dom0_mem=512M,max:512M", 512ull << 20 },
        { "dom0_mem=256M,max:1G", 256ull << 20 },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hv_options o = defaults;
        assert_int_equal(cmdline_parse(good[i].line, &o, record_bad), 0);
        assert_true(o.dom0_mem == good[i].bytes);
    }
}

static void dom0_mem_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "dom0_mem=",
        "dom0_mem=garbage",
        "dom0_mem=0",
        "dom0_mem=0M",
        "dom0_mem=512X",
        "dom0_mem=512MB",
        "dom0_mem=-1",
        "dom0_mem=512M,",
        "dom0_mem=512M,max:",
        "dom0_mem=512M,max:foo",
        "dom0_mem=512M,min:1G",
        "dom0_mem=512M,max:1G,",
        "dom0_mem=16777216T",             /* 2^64 bytes: overflows */
        "dom0_mem=18014398509481984",     /* 2^54 KiB: overflows */
        "dom0_mem=99999999999999999999M", /* the number itself overflows */
        "dom0_mem=512M,max:16777216T",
    };
    expect_words_refused(bad, sizeof(bad) / sizeof(bad[0]));
    /* The largest size that fits is accepted. */
    reset(NULL);
    struct hv_options o = parse("dom0_mem=16777215T");
    assert_int_equal(nr_bad_calls, 0);
    assert_true(o.dom0_mem == 16777215ull << 40);
}

/* The two CPU counts: each line sets its own count (a later word wins) and leaves the other at 0, the default;
 * each bad word is refused. */
static void cpu_count_values(void **state)
{
    static const struct { const char *line; unsigned max_cpus, dom0_vcpus; } good[] = {
        { "maxcpus=1", 1, 0 },
        { "maxcpus=2 maxcpus=64", 64, 0 },
        { "dom0_max_vcpus=4", 0, 4 },
        { "dom0_max_vcpus=1 dom0_max_vcpus=128", 0, 128 },
    };
    static const char *const bad[] = {
        "maxcpus=0", "maxcpus=", "maxcpus=2x", "maxcpus=4097", "maxcpus=-1",
        "dom0_max_vcpus=0", "dom0_max_vcpus=129", "dom0_max_vcpus=", "dom0_max_vcpus=4x",
        "dom0_max_vcpus=4294967297",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hv_options o = parse(good[i].line);
        assert_int_equal(o.max_cpus, good[i].max_cpus);
        assert_int_equal(o.dom0_vcpus, good[i].dom0_vcpus);
        assert_int_equal(nr_bad_calls, 0);
    }
    expect_words_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/* audit=on-death turns the audit at each domain's end on, audit=off off again (a later word wins);
 * anything else is refused. */
static void audit_values(void **state)
{
    static const char *const bad[] = { "audit=", "audit=on", "audit=on-deathx", "audit=OFF" };

    (void)state;
    struct hv_options o = parse("audit=on-death");
    assert_true(o.audit_on_death);
    assert_int_equal(nr_bad_calls, 0);
    o = parse("audit=on-death audit=off");
    assert_false(o.audit_on_death);
    assert_int_equal(nr_bad_calls, 0);
    expect_words_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

/* Contract: the initial domain's type and each domU='s are pv or pvh, default pv; anything else is refused. */
static void domain_types(void **state)
{
    static const char *const bad[] = {
        "initial_domain_type=", "initial_domain_type=hvm", "initial_domain_type=pvhx",
        "initial_domain_type=PVH", "domU=2,type=", "domU=2,type=hvm", "domU=2,type=pvh,",
        "domU=2,type=pvhvm", "domU=2,type=pv,type=",
    };

    (void)state;
    struct hv_options o = parse("initial_domain_type=pvh");
    assert_true(o.initial_domain_pvh);
    o = parse("initial_domain_type=pvh initial_domain_type=pv");
    assert_false(o.initial_domain_pvh);
    o = parse("domU=2,mem=32M,type=pvh domU=3 domU=4+5,type=pv,vcpus=2");
    assert_int_equal(nr_bad_calls, 0);
    assert_int_equal(o.nr_domus, 3);
    assert_true(o.domus[0].pvh);
    assert_int_equal(o.domus[0].mem_bytes, 32ull << 20);
    assert_false(o.domus[1].pvh);
    assert_false(o.domus[2].pvh);
    assert_int_equal(o.domus[2].vcpus, 2);
    assert_int_equal(o.domus[2].initrd_module, 5);
    expect_words_refused(bad, sizeof(bad) / sizeof(bad[0]));
}

static void unknown_words_reported_exactly(void **state)
{
    (void)state;
    const char *line = "  noreboot console=com2   foo=bar dom0_mem=1G sync_console  ";
    struct hv_options o = parse(line);
    assert_int_equal(nr_bad_calls, 3);
    assert_string_equal(bad_words[0], "noreboot");
    assert_int_equal(bad_lens[0], 8);
    assert_string_equal(bad_words[1], "foo=bar");
    assert_int_equal(bad_lens[1], 7);
    assert_string_equal(bad_words[2], "sync_console");
    assert_int_equal(bad_lens[2], 12);
    /* The good words between the bad ones still took effect. */
    assert_int_equal(o.serial_port, 0x2f8);
    assert_true(o.dom0_mem == 1ull << 30);
    assert_int_equal(o.loglvl, LOG_INFO);
}

/* A word that merely starts with a known key is not that key. */
static void key_prefixes_are_not_keys(void **state)
{
    (void)state;
    struct hv_options o = parse("consoles=com2 dom0_memory=1G loglvl2=debug dom0_mem_x=1G");
    assert_int_equal(nr_bad_calls, 4);
    assert_defaults(&o);
}

static void no_callback_still_counts(void **state)
{
    (void)state;
    struct hv_options o = defaults;
    assert_int_equal(cmdline_parse("a b console=com2 c", &o, NULL), 3);
    assert_int_equal(o.serial_port, 0x2f8);
}

static void skip_first_word(void **state)
{
    (void)state;
    assert_string_equal(cmdline_skip_first_word("/boot/vmlinuz root=/dev/xvda ro"),
                        "root=/dev/xvda ro");
    assert_string_equal(cmdline_skip_first_word("  kernel    console=hvc0"), "console=hvc0");
    assert_string_equal(cmdline_skip_first_word("kernel"), "");
    assert_string_equal(cmdline_skip_first_word("kernel   "), "");
    assert_string_equal(cmdline_skip_first_word(""), "");
    assert_string_equal(cmdline_skip_first_word("   "), "");
}

static void parse_size_units_and_cursor(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t bytes; const char *rest; } good[] = {
        { "1", 1024, "" },
        { "1k", 1024, "" },
        { "2M,x", 2ull << 20, ",x" },
        { "3g", 3ull << 30, "" },
        { "4t", 4ull << 40, "" },
        { "5b", 5, "" },
        { "0x10K", 16 << 10, "" },
        { "7Q", 7 << 10, "Q" },
        { "17179869183", 17179869183ull << 10, "" }, /* the largest KiB count */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *s = good[i].s;
        uint64_t v = 0;
        assert_true(parse_size(&s, &v));
        assert_true(v == good[i].bytes);
        assert_string_equal(s, good[i].rest);
    }
    static const char *const bad[] = { "", "M", "x1", "18014398509481984",
                                       "17592186044416M", "16777216T" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *s = bad[i];
        uint64_t v = 0x77;
        assert_false(parse_size(&s, &v));
        assert_int_equal(v, 0x77);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(empty_and_blank_lines, reset),
        cmocka_unit_test_setup(console_values, reset),
        cmocka_unit_test_setup(loglvl_values, reset),
        cmocka_unit_test_setup(dom0_mem_sizes, reset),
        cmocka_unit_test_setup(dom0_mem_refused, reset),
        cmocka_unit_test_setup(cpu_count_values, reset),
        cmocka_unit_test_setup(audit_values, reset),
        cmocka_unit_test_setup(domain_types, reset),
        cmocka_unit_test_setup(unknown_words_reported_exactly, reset),
        cmocka_unit_test_setup(key_prefixes_are_not_keys, reset),
        cmocka_unit_test_setup(no_callback_still_counts, reset),
        cmocka_unit_test_setup(skip_first_word, reset),
        cmocka_unit_test_setup(parse_size_units_and_cursor, reset),
    };
    return UNIT_RUN("cmdline", tests);
}
