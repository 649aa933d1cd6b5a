/*
 * Hypervisor command-line parsing.
 *
 * Words are separated by spaces; each is "key=value" or a bare flag. Parsing
 * never fails as a whole: a bad word is reported and skipped so that a typo
 * cannot stop the machine from booting.
 */
#include "pvkit/bootinfo.h"

const char *cmdline_skip_first_word(const char *cmdline)
{
    while (*cmdline == ' ')
        cmdline++;
    while (*cmdline && *cmdline != ' ')
        cmdline++;
    while (*cmdline == ' ')
        cmdline++;
    return cmdline;
}

bool parse_size(const char **s, uint64_t *bytes)
{
    uint64_t v;
    unsigned int shift = 10;

    if (!parse_u64(s, &v))
        return false;
    switch (**s) {
    case 'T': case 't': shift = 40; (*s)++; break;
    case 'G': case 'g': shift = 30; (*s)++; break;
    case 'M': case 'm': shift = 20; (*s)++; break;
    case 'K': case 'k': shift = 10; (*s)++; break;
    case 'B': case 'b': shift = 0;  (*s)++; break;
    default: break;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *bytes = v << shift;
    return true;
}

static bool word_is(const char *word, size_t len, const char *key, const char **value)
{
    size_t klen = strlen(key);
    if (len <= klen || strncmp(word, key, klen) != 0 || word[klen] != '=')
        return false;
    *value = word + klen + 1;
    return true;
}

static bool at_word_end(const char *p, const char *end)
{
    return p == end;
}

static bool parse_console(const char *v, const char *end, struct hv_options *opt)
{
    size_t n = (size_t)(end - v);
    if (n == 4 && !strncmp(v, "com1", 4))
        opt->serial_port = 0x3f8;
    else if (n == 4 && !strncmp(v, "com2", 4))
        opt->serial_port = 0x2f8;
    else if (n == 4 && !strncmp(v, "none", 4))
        opt->serial_port = 0;
    else
        return false;
    return true;
}

static bool parse_loglvl(const char *v, const char *end, struct hv_options *opt)
{
    static const struct { const char *name; enum log_level lvl; } levels[] = {
        { "error", LOG_ERR }, { "warning", LOG_WARN }, { "info", LOG_INFO },
        { "debug", LOG_DEBUG }, { "all", LOG_DEBUG },
    };
    size_t n = (size_t)(end - v);
    for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
        if (strlen(levels[i].name) == n && !strncmp(v, levels[i].name, n)) {
            opt->loglvl = levels[i].lvl;
            return true;
        }
    }
    return false;
}

/* dom0_mem=<size>[,max:<size>]: the maximum is accepted and ignored for now. */
static bool parse_dom0_mem(const char *v, const char *end, struct hv_options *opt)
{
    uint64_t bytes, max;
    if (!parse_size(&v, &bytes) || bytes == 0)
        return false;
    if (v < end && !strncmp(v, ",max:", 5)) {
        v += 5;
        if (!parse_size(&v, &max))
            return false;
    }
    if (!at_word_end(v, end))
        return false;
    opt->dom0_mem = bytes;
    return true;
}

/* A whole word that is a count in [1, max]. */
static bool parse_count(const char *v, const char *end, uint64_t max, unsigned int *out)
{
    uint64_t n;
    if (!parse_u64(&v, &n) || !at_word_end(v, end) || n == 0 || n > max)
        return false;
    *out = (unsigned int)n;
    return true;
}

/* A value that is either off_word (*out = false) or on_word (*out = true); false if neither. */
static bool parse_switch(const char *v, const char *end, const char *off_word,
                         const char *on_word, bool *out)
{
    size_t n = (size_t)(end - v);
    if (n == strlen(on_word) && !strncmp(v, on_word, n))
        *out = true;
    else if (n == strlen(off_word) && !strncmp(v, off_word, n))
        *out = false;
    else
        return false;
    return true;
}

static bool parse_initial_domain(const char *v, const char *end, struct hv_options *opt)
{
    return parse_switch(v, end, "dom0", "domU", &opt->initial_domain_unprivileged);
}

/* pv or pvh, the whole rest of the word: *pvh set accordingly. */
static bool parse_type(const char *v, const char *end, bool *pvh)
{
    return parse_switch(v, end, "pv", "pvh", pvh);
}

/* domU=K[+I][,mem=<size>][,vcpus=<n>][,type=pv|pvh] */
static bool parse_domu(const char *v, const char *end, struct hv_options *opt)
{
    struct domu_spec spec = { .mem_bytes = 64ull << 20, .vcpus = 1 };
    uint64_t n;

    if (opt->nr_domus == MAX_BOOT_DOMUS || !parse_u64(&v, &n) || n == 0 || n > BOOT_MAX_MODULES)
        return false;
    spec.kernel_module = (unsigned int)n;
    if (v < end && *v == '+') {
        v++;
        if (!parse_u64(&v, &n) || n == 0 || n > BOOT_MAX_MODULES)
            return false;
        spec.initrd_module = (unsigned int)n;
    }
    while (v < end) {
        if (*v++ != ',')
            return false;
        if ((size_t)(end - v) > 4 && !strncmp(v, "mem=", 4)) {
            v += 4;
            if (!parse_size(&v, &spec.mem_bytes) || spec.mem_bytes == 0)
                return false;
        } else if ((size_t)(end - v) > 6 && !strncmp(v, "vcpus=", 6)) {
            v += 6;
            if (!parse_u64(&v, &n) || n == 0 || n > 128)
                return false;
            spec.vcpus = (unsigned int)n;
        } else if ((size_t)(end - v) > 5 && !strncmp(v, "type=", 5)) {
            const char *t = v + 5;
            v = t;
            while (v < end && *v != ',')
                v++;
            if (!parse_type(t, v, &spec.pvh))
                return false;
        } else {
            return false;
        }
    }
    opt->domus[opt->nr_domus++] = spec;
    return true;
}

static bool parse_word(const char *word, size_t len, struct hv_options *opt)
{
    const char *end = word + len, *v;
    if (word_is(word, len, "domU", &v))
        return parse_domu(v, end, opt);
    if (word_is(word, len, "initial_domain", &v))
        return parse_initial_domain(v, end, opt);
    if (word_is(word, len, "initial_domain_type", &v))
        return parse_type(v, end, &opt->initial_domain_pvh);
    if (word_is(word, len, "console", &v))
        return parse_console(v, end, opt);
    if (word_is(word, len, "loglvl", &v))
        return parse_loglvl(v, end, opt);
    if (word_is(word, len, "dom0_mem", &v))
        return parse_dom0_mem(v, end, opt);
    if (word_is(word, len, "dom0_max_vcpus", &v))
        return parse_count(v, end, 128, &opt->dom0_vcpus);
    if (word_is(word, len, "audit", &v))
        return parse_switch(v, end, "off", "on-death", &opt->audit_on_death); /* audit=on-death|off */
    if (word_is(word, len, "maxcpus", &v))
        return parse_count(v, end, 4096, &opt->max_cpus);
    return false;
}

int cmdline_parse(const char *cmdline, struct hv_options *opt,
                  void (*bad)(const char *word, size_t len))
{
    int nr_bad = 0;
    const char *p = cmdline;

    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        size_t len = (size_t)(p - word);
        if (len && !parse_word(word, len, opt)) {
            nr_bad++;
            if (bad)
                bad(word, len);
        }
    }
    return nr_bad;
}
