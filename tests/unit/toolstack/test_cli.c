/*
 * Unit tests of the pvkit command's pure parts: argument parsing
 * (tools/pvkit/args.c), number syntaxes (util.c), naming a domain by id
 * or name (dominfo.c), xl's output formats (format.c), and the kernel
 * loader (kernel.c, lz4.c) on good and hostile bzImages and ELF files.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "../elf64_exec.h"
#include "args.h"
#include "dominfo.h"
#include "format.h"
#include "kernel.h"
#include "public/pvkit.h"
#include "util.h"

/* --- arguments ----------------------------------------------------------------- */

static int parse(const char *verb, struct args *a, char *err, int argc, ...)
{
    static char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    const struct verb_spec *v = verb_find(verb);
    assert_non_null(v);
    return args_parse(v, argc, argv, a, err);
}

static void test_args_flags(void **state)
{
    struct args a;
    char err[ARGS_ERR_MAX];

    (void)state;
    assert_int_equal(parse("shutdown", &a, err, 2, "-wa", "-F"), 0);
    assert_true(args_flag(&a, 'w') && args_flag(&a, 'a') && args_flag(&a, 'F'));
    assert_false(args_flag(&a, 'c'));
    assert_int_equal(a.nr_pos, 0);
    assert_int_equal(parse("shutdown", &a, err, 2, "web", "-w"), 0); /* options after words */
    assert_int_equal(a.nr_pos, 1);
    assert_string_equal(a.pos[0], "web");
    assert_true(args_flag(&a, 'w'));
    assert_int_equal(parse("top", &a, err, 3, "-b", "-i3", "-d"), -EINVAL);
    assert_string_equal(err, "top: -d needs a value");
    assert_int_equal(parse("top", &a, err, 4, "-b", "-i3", "-d", "0.5"), 0);
    assert_string_equal(args_value(&a, 'i'), "3");
    assert_string_equal(args_value(&a, 'd'), "0.5");
    assert_null(args_value(&a, 'x'));
    assert_int_equal(parse("list", &a, err, 1, "-x"), -EINVAL);
    assert_string_equal(err, "list: unknown option -x (usage: pvkit list [-l] [DOMAIN ...])");
    assert_int_equal(parse("list", &a, err, 1, "--long"), -EINVAL);
    assert_string_equal(err, "list: unknown option --long");
    assert_int_equal(parse("destroy", &a, err, 0), -EINVAL);
    assert_string_equal(err, "destroy: missing argument (usage: pvkit destroy DOMAIN)");
    assert_int_equal(parse("destroy", &a, err, 2, "a", "b"), -EINVAL);
    assert_string_equal(err, "destroy: too many arguments (usage: pvkit destroy DOMAIN)");
    assert_int_equal(parse("mem-set", &a, err, 1, "a"), -EINVAL);
    assert_int_equal(parse("destroy", &a, err, 2, "--", "-5"), 0); /* after --, a word */
    assert_string_equal(a.pos[0], "-5");
    assert_int_equal(parse("destroy", &a, err, 1, "--help"), 0);
    assert_true(a.help);
    assert_int_equal(parse("create", &a, err, 4, "-c", "web.cfg", "memory=256", "name='x'"), 0);
    assert_int_equal(a.nr_pos, 3);
    assert_true(args_flag(&a, 'c'));
    assert_int_equal(parse("info", &a, err, 1, "x"), -EINVAL);
    assert_null(verb_find("frob"));
}

static void test_args_overrides(void **state)
{
    char err[ARGS_ERR_MAX];
    (void)state;
    assert_int_equal(args_check_override("memory=256", err), 0);
    assert_int_equal(args_check_override("extra+=\" quiet\"", err), 0);
    assert_int_equal(args_check_override("a.b_c = 1", err), 0);
    assert_int_equal(args_check_override("memory", err), -EINVAL);
    assert_string_equal(err, "memory: not KEY=VALUE");
    assert_int_equal(args_check_override("=5", err), -EINVAL);
    assert_int_equal(args_check_override("9x=5", err), -EINVAL);
    assert_int_equal(args_check_override("", err), -EINVAL);
}

static void test_args_config_path(void **state)
{
    char dir[] = "/tmp/pvkit-test-cfg.XXXXXX";
    (void)state;
    assert_non_null(mkdtemp(dir));
    char *a = xasprintf("%s/web", dir), *b = xasprintf("%s/db.cfg", dir);
    FILE *f = fopen(a, "w");
    fclose(f);
    f = fopen(b, "w");
    fclose(f);
    char *p = args_config_path("web", dir);
    assert_string_equal(p, a);
    free(p);
    p = args_config_path("db", dir);
    assert_string_equal(p, b);
    free(p);
    p = args_config_path("nothere", dir);
    assert_string_equal(p, "nothere");
    free(p);
    p = args_config_path("./web", dir); /* a path is taken as it is */
    assert_string_equal(p, "./web");
    free(p);
    unlink(a);
    unlink(b);
    rmdir(dir);
    free(a);
    free(b);
}

/* --- numbers ----------------------------------------------------------------------- */

static void test_numbers(void **state)
{
    uint32_t id;
    uint64_t kb;
    long n;
    (void)state;
    assert_true(parse_domid("0", &id) && id == 0);
    assert_true(parse_domid("32751", &id) && id == 32751);
    assert_false(parse_domid("32752", &id)); /* DOMID_FIRST_RESERVED */
    assert_false(parse_domid("", &id));
    assert_false(parse_domid("1a", &id));
    assert_false(parse_domid("-1", &id));
    assert_false(parse_domid("123456", &id));
    assert_int_equal(parse_mem_kb("256", false, &kb), 0);
    assert_int_equal(kb, 256 * 1024);
    assert_int_equal(parse_mem_kb("1g", false, &kb), 0);
    assert_int_equal(kb, 1024 * 1024);
    assert_int_equal(parse_mem_kb("512K", false, &kb), 0);
    assert_int_equal(kb, 512);
    assert_int_equal(parse_mem_kb("4096b", false, &kb), 0);
    assert_int_equal(kb, 4);
    assert_int_equal(parse_mem_kb("1t", false, &kb), 0);
    assert_int_equal(kb, 1ull << 30);
    assert_int_equal(parse_mem_kb("0", false, &kb), -EINVAL);
    assert_int_equal(parse_mem_kb("0", true, &kb), 0);
    assert_int_equal(parse_mem_kb("12x", false, &kb), -EINVAL);
    assert_int_equal(parse_mem_kb("12mb", false, &kb), -EINVAL);
    assert_int_equal(parse_mem_kb("m", false, &kb), -EINVAL);
    assert_int_equal(parse_mem_kb("-5", false, &kb), -EINVAL);
    assert_int_equal(parse_mem_kb("99999999999999999999", false, &kb), -ERANGE);
    assert_int_equal(parse_mem_kb("18014398509481984t", false, &kb), -ERANGE);
    assert_int_equal(parse_long("10", 1, 20, &n), 0);
    assert_int_equal(n, 10);
    assert_int_equal(parse_long("0", 1, 20, &n), -EINVAL);
    assert_int_equal(parse_long("5x", 1, 20, &n), -EINVAL);
    assert_int_equal(parse_long("", 1, 20, &n), -EINVAL);
}

/* --- naming domains ------------------------------------------------------------------ */

static struct dominfo dom(uint32_t id, const char *name)
{
    struct dominfo d = {.domid = id};
    snprintf(d.name, sizeof(d.name), "%s", name);
    return d;
}

static void test_resolve(void **state)
{
    struct dominfo_list l = {0};
    char err[128];
    size_t i;
    (void)state;
    struct dominfo d0 = dom(0, "Domain-0"), d3 = dom(3, "web"), d5 = dom(5, "db"),
                   d7 = dom(7, "twin"), d8 = dom(8, "twin");
    dominfo_list_add(&l, &d0);
    dominfo_list_add(&l, &d3);
    dominfo_list_add(&l, &d5);
    dominfo_list_add(&l, &d7);
    dominfo_list_add(&l, &d8);
    assert_int_equal(dominfo_resolve(&l, "web", &i, err), 0);
    assert_int_equal(l.doms[i].domid, 3);
    assert_int_equal(dominfo_resolve(&l, "5", &i, err), 0);
    assert_string_equal(l.doms[i].name, "db");
    assert_int_equal(dominfo_resolve(&l, "0", &i, err), 0);
    assert_int_equal(dominfo_resolve(&l, "Domain-0", &i, err), 0);
    assert_int_equal(l.doms[i].domid, 0);
    assert_int_equal(dominfo_resolve(&l, "4", &i, err), -ESRCH);
    assert_string_equal(err, "4: no such domain");
    assert_int_equal(dominfo_resolve(&l, "mail", &i, err), -ESRCH);
    assert_string_equal(err, "mail: no such domain");
    assert_int_equal(dominfo_resolve(&l, "twin", &i, err), -ESRCH);
    assert_string_equal(err, "twin: 2 domains have this name");
    assert_int_equal(dominfo_resolve(&l, "", &i, err), -ESRCH);
    assert_int_equal(dominfo_resolve(&l, "99999", &i, err), -ESRCH);
    assert_ptr_equal(dominfo_find(&l, 5), &l.doms[2]);
    assert_null(dominfo_find(&l, 6));
    for (uint32_t k = 10; k < 60; k++) { /* growth */
        struct dominfo d = dom(k, "many");
        dominfo_list_add(&l, &d);
    }
    assert_int_equal(l.nr, 55);
    assert_int_equal(dominfo_resolve(&l, "59", &i, err), 0);
    dominfo_list_free(&l);
    assert_int_equal(l.nr, 0);
}

/* --- output formats -------------------------------------------------------------------- */

/* Output of FN(f, ...) as a string (static buffer). */
static char outbuf[16384];
static FILE *out_open(void)
{
    memset(outbuf, 0, sizeof(outbuf));
    FILE *f = fmemopen(outbuf, sizeof(outbuf) - 1, "w");
    assert_non_null(f);
    return f;
}

/* Contract: every string of WANT (NULL-terminated) is in outbuf. */
static void assert_out_has(const char *const *want)
{
    for (; *want; want++)
        if (!strstr(outbuf, *want))
            fail_msg("output lacks \"%s\":\n%s", *want, outbuf);
}

static void test_format_list(void **state)
{
    (void)state;
    struct dominfo d = dom(0, "Domain-0");
    d.mem_kb = 512 * 1024;
    d.vcpus_online = 1;
    d.running = true;
    d.cpu_time_ns = 12345678901ull;
    FILE *f = out_open();
    format_list_header(f);
    format_list_line(f, &d);
    d = dom(4, "web");
    d.mem_kb = 131072;
    d.vcpus_online = 2;
    d.blocked = d.paused = true;
    format_list_line(f, &d);
    d.paused = d.blocked = false;
    d.shutdown = true;
    d.shutdown_reason = REASON_CRASH;
    d.dying = true;
    format_list_line(f, &d);
    fclose(f);
    assert_string_equal(outbuf,
        "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
        "Domain-0                                     0   512     1     r-----     12.3\n"
        "web                                          4   128     2     -bp---      0.0\n"
        "web                                          4   128     2     ---scd      0.0\n");
    char st[7];
    d.shutdown_reason = 99; /* an unknown reason gets no letter, never a read past the table */
    format_state(&d, st);
    assert_string_equal(st, "---s-d");
}

static void test_format_json(void **state)
{
    (void)state;
    struct dominfo_list l = {0};
    struct dominfo d = dom(2, "we\"ird\\name\n");
    d.mem_kb = 4096;
    dominfo_list_add(&l, &d);
    char *extra[] = {"        \"kernel\": \"/k\""};
    FILE *f = out_open();
    format_list_json(f, &l, extra);
    fclose(f);
    assert_out_has((const char *const[]){
        "\"name\": \"we\\\"ird\\\\name\\u000a\"",
        "\"domid\": 2,",
        "\"kernel\": \"/k\"\n    }\n]\n",
        NULL,
    });
    dominfo_list_free(&l);
}

static void test_format_vcpu_uptime(void **state)
{
    (void)state;
    struct dominfo d = dom(3, "web");
    struct vcpuinfo v = {.vcpu = 1, .cpu = 0, .online = true, .running = true,
                         .cpu_time_ns = 2500000000ull};
    FILE *f = out_open();
    format_vcpu_header(f);
    format_vcpu_line(f, &d, &v);
    v.online = false;
    format_vcpu_line(f, &d, &v);
    fclose(f);
    assert_string_equal(outbuf,
        "Name                                ID  VCPU   CPU State   Time(s) Affinity (Hard / Soft)\n"
        "web                                  3     1     0   r--        2.5  all / all\n"
        "web                                  3     1     -   --p        2.5  all / all\n");
    char up[32];
    format_uptime(59, up);
    assert_string_equal(up, " 0:00:59");
    format_uptime(3600 * 5 + 61, up);
    assert_string_equal(up, " 5:01:01");
    format_uptime(86400 + 7, up);
    assert_string_equal(up, "1 day,  0:00:07");
    format_uptime(86400 * 3 + 3600 * 23, up);
    assert_string_equal(up, "3 days, 23:00:00");
    f = out_open();
    format_uptime_header(f);
    format_uptime_line(f, "web", 3, 65);
    fclose(f);
    assert_string_equal(outbuf, "Name                                ID Uptime\n"
                                "web                                  3  0:01:05\n");
}

static void test_format_info_top(void **state)
{
    (void)state;
    struct hostinfo h = {.nr_cpus = 2, .max_cpu_id = 1, .nr_nodes = 1, .cores_per_socket = 2,
                         .threads_per_core = 1, .cpu_khz = 2399998, .total_pages = 262144,
                         .free_pages = 131072, .xen_major = 4, .xen_minor = 17,
                         .xen_pagesize = 4096};
    strcpy(h.xen_extra, "-pvkit");
    strcpy(h.virt_caps, "pv");
    FILE *f = out_open();
    format_info(f, &h);
    fclose(f);
    assert_out_has((const char *const[]){
        "nr_cpus                : 2\n",
        "cpu_mhz                : 2399.998\n",
        "total_memory           : 1024\n",
        "free_memory            : 512\n",
        "xen_version            : 4.17-pvkit\n",
        "virt_caps              : pv\n",
        NULL,
    });
    struct dominfo d = dom(1, "a-very-long-domain-name");
    d.mem_kb = 262144;
    d.max_kb = 524288;
    d.vcpus_online = 2;
    d.running = true;
    d.cpu_time_ns = 7900000000ull;
    f = out_open();
    format_top_header(f);
    format_top_line(f, &d, 12.25, 1048576);
    d.shutdown = true;
    d.shutdown_reason = REASON_CRASH;
    d.running = false;
    format_top_line(f, &d, -1, 0);
    fclose(f);
    assert_string_equal(outbuf,
        "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS\n"
        "a-very-lon ----r-          7   12.2     262144   25.0     524288      50.0     2\n"
        "a-very-lon ---c--          7    0.0     262144    0.0     524288       0.0     2\n");
}

static void test_format_stats(void **state)
{
    (void)state;
    struct pvkit_domain_stats s;
    memset(&s, 0, sizeof(s));
    s.hypercalls[1] = 1000;      /* mmu_update */
    s.hypercall_errors[1] = 3;
    s.hypercalls[29] = 50;       /* sched_op */
    s.hypercalls[60] = 2;        /* no name */
    s.hypercalls_unknown = 4;
    s.rejects[4] = 9;            /* writable-pt */
    s.mmu_update_batches[0] = 10;
    s.mmu_update_batches[3] = 2;
    s.mmu_update_batches[PVKIT_STATS_BUCKETS - 1] = 1;
    s.events_sent = 5;
    struct dominfo d = dom(2, "web");
    FILE *f = out_open();
    format_stats(f, &d, &s);
    fclose(f);
    assert_out_has((const char *const[]){
        "Domain 2 (web)\n",
        "  mmu_update                             1000            3\n",
        "  sched_op                                 50            0\n",
        "  #60                                       2            0\n",
        "  (unknown numbers)                         4\n",
        "  total                                  1056            3\n",
        NULL,
    });
    assert_null(strstr(outbuf, "set_trap_table")); /* zero rows are left out */
    assert_out_has((const char *const[]){
        "writable-pt 9",
        "  mmu_update                 13 batches  1:10  8-15:2  >=4096:1\n",
        "events: sent 5, delivered 0, timer fires 0\n",
        NULL,
    });
    assert_string_equal(hypercall_name(36), "domctl");
    assert_string_equal(hypercall_name(49), "arch_1");
    assert_string_equal(hypercall_name(57), "pvkit_op");
    assert_null(hypercall_name(56));
    assert_null(hypercall_name(11));
    assert_null(hypercall_name(43));
    assert_null(hypercall_name(1000));
}

/* --- kernels ------------------------------------------------------------------------------ */

/* The ELF header lines are test_elf.c's too: a separate test program of another component, no shared test library. */
/* A minimal ELF64 x86-64 file with one PT_NOTE segment holding a note owned by OWNER. */
static unsigned char *make_elf(const char *owner, size_t *len)
{
    size_t notesz = sizeof(Elf64_Nhdr) + 4 + 8;
    size_t total = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + notesz + 4000;
    unsigned char *b = calloc(1, total);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
    elf64_exec_header(eh, 0, 1);
    Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*eh));
    ph->p_type = PT_NOTE;
    ph->p_offset = sizeof(*eh) + sizeof(*ph);
    ph->p_filesz = notesz;
    Elf64_Nhdr *n = (Elf64_Nhdr *)(b + ph->p_offset);
    n->n_namesz = 4;
    n->n_descsz = 8;
    n->n_type = 6;
    memcpy(n + 1, owner, 4);
    for (size_t i = ph->p_offset + notesz; i < total; i++) /* compressible filler */
        b[i] = (unsigned char)(i % 7);
    *len = total;
    return b;
}

/* A bzImage whose payload is PAYLOAD (PLEN bytes) after 4 setup sectors + 1. */
static unsigned char *make_bz(const unsigned char *payload, size_t plen, size_t *len)
{
    size_t setup = 5 * 512;
    unsigned char *b = calloc(1, setup + plen + 4);
    b[0x1f1] = 4;
    b[0x1fe] = 0x55;
    b[0x1ff] = 0xaa;
    memcpy(b + 0x202, "HdrS", 4);
    b[0x206] = 0x0f;
    b[0x207] = 0x02;
    uint32_t off = 0, pl = (uint32_t)plen;
    memcpy(b + 0x248, &off, 4);
    memcpy(b + 0x24c, &pl, 4);
    memcpy(b + setup, payload, plen);
    *len = setup + plen + 4;
    return b;
}

static unsigned char *gzip_of(const unsigned char *in, size_t len, size_t *out_len)
{
    z_stream zs = {0};
    size_t cap = compressBound(len) + 64;
    unsigned char *out = malloc(cap);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static unsigned char *xz_of(const unsigned char *in, size_t len, size_t *out_len)
{
    size_t cap = lzma_stream_buffer_bound(len);
    unsigned char *out = malloc(cap);
    *out_len = 0;
    assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, out_len, cap),
                     LZMA_OK);
    return out;
}

/* An LZ4 legacy frame of IN as literal-only blocks (valid LZ4 block format). */
static unsigned char *lz4_of(const unsigned char *in, size_t len, size_t *out_len)
{
    unsigned char *out = malloc(len + 64 + len / 255), *p = out;
    uint32_t magic = 0x184C2102u;
    memcpy(p, &magic, 4);
    p += 4;
    unsigned char *sizep = p;
    p += 4;
    unsigned char *blk = p;
    size_t lit = len;
    *p++ = (unsigned char)((lit >= 15 ? 15 : lit) << 4);
    if (lit >= 15) {
        size_t rest = lit - 15;
        while (rest >= 255) {
            *p++ = 255;
            rest -= 255;
        }
        *p++ = (unsigned char)rest;
    }
    memcpy(p, in, len);
    p += len;
    uint32_t bs = (uint32_t)(p - blk);
    memcpy(sizep, &bs, 4);
    *out_len = (size_t)(p - out);
    return out;
}

static void test_kernel_elf(void **state)
{
    size_t len;
    (void)state;
    unsigned char *elf = make_elf("Xen", &len);
    assert_true(kernel_is_elf64(elf, len));
    assert_true(kernel_elf_has_xen_notes(elf, len));
    assert_false(kernel_elf_has_xen_notes(elf, 100)); /* truncated before the notes */
    Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(Elf64_Ehdr));
    ph->p_filesz = UINT64_MAX - 8; /* a segment past the file */
    assert_false(kernel_elf_has_xen_notes(elf, len));
    ph->p_filesz = sizeof(Elf64_Nhdr) + 12;
    ((Elf64_Nhdr *)(elf + ph->p_offset))->n_namesz = 0xfffffff0; /* a note past its segment */
    assert_false(kernel_elf_has_xen_notes(elf, len));
    free(elf);
    elf = make_elf("GNU", &len);
    assert_false(kernel_elf_has_xen_notes(elf, len));
    ((Elf64_Ehdr *)elf)->e_phnum = 60000; /* headers past the file */
    assert_false(kernel_elf_has_xen_notes(elf, len));
    elf[EI_CLASS] = ELFCLASS32;
    assert_false(kernel_is_elf64(elf, len));
    free(elf);
    assert_false(kernel_is_elf64((const unsigned char *)"\177ELF", 4));
}

/* Unpacks the bzImage of PAYLOAD and checks that it gives ELF back. */
static void roundtrip(unsigned char *payload, size_t plen, const unsigned char *elf, size_t elen)
{
    size_t bzlen, olen;
    unsigned char *bz = make_bz(payload, plen, &bzlen), *out = NULL;
    char err[KERNEL_ERR_MAX];
    int rc = kernel_unpack_bzimage(bz, bzlen, &out, &olen, err);
    if (rc)
        fail_msg("unpack: %s", err);
    assert_int_equal(olen, elen);
    assert_memory_equal(out, elf, elen);
    free(out);
    free(bz);
    free(payload);
}

static void test_kernel_bzimage(void **state)
{
    size_t elen, plen;
    (void)state;
    unsigned char *elf = make_elf("Xen", &elen);
    unsigned char *p = gzip_of(elf, elen, &plen);
    roundtrip(p, plen, elf, elen);
    p = xz_of(elf, elen, &plen);
    roundtrip(p, plen, elf, elen);
    p = lz4_of(elf, elen, &plen);
    roundtrip(p, plen, elf, elen);
    free(elf);
}

/* kernel_unpack_bzimage(BZ) must fail with an error containing WHY. */
static void refused(const unsigned char *bz, size_t len, const char *why)
{
    unsigned char *out = (unsigned char *)0x1;
    size_t olen = 0;
    char err[KERNEL_ERR_MAX] = "";
    assert_int_not_equal(kernel_unpack_bzimage(bz, len, &out, &olen, err), 0);
    if (!strstr(err, why))
        fail_msg("expected '%s' in '%s'", why, err);
    assert_ptr_equal(out, (unsigned char *)0x1);
}

static void test_kernel_hostile(void **state)
{
    size_t elen, plen, bzlen;
    (void)state;
    unsigned char *elf = make_elf("Xen", &elen);
    unsigned char *gz = gzip_of(elf, elen, &plen);
    unsigned char *bz = make_bz(gz, plen, &bzlen);

    refused(bz, 0x200, "not a bzImage");                 /* truncated in the header */
    refused(bz, 5 * 512 + plen / 2, "outside the");      /* truncated in the payload */
    unsigned char *c = malloc(bzlen);
    memcpy(c, bz, bzlen);
    uint32_t v = 0xfffffff0u;
    memcpy(c + 0x248, &v, 4);                            /* payload_offset past the end */
    refused(c, bzlen, "outside the");
    memcpy(c, bz, bzlen);
    memcpy(c + 0x24c, &v, 4);                            /* payload_length past the end */
    refused(c, bzlen, "outside the");
    memcpy(c, bz, bzlen);
    c[0x1f1] = 0xff;                                     /* setup_sects past the end */
    refused(c, bzlen, "outside the");
    memcpy(c, bz, bzlen);
    c[0x206] = 0x07;                                     /* protocol 2.07: no payload fields */
    refused(c, bzlen, "no payload fields");
    memcpy(c, bz, bzlen);
    memcpy(c + 0x202, "HdrX", 4);
    refused(c, bzlen, "not a bzImage");
    memcpy(c, bz, bzlen);
    memset(c + 5 * 512, 0x42, 8);                        /* unknown format */
    refused(c, bzlen, "unknown compression format");
    memcpy(c, bz, bzlen);
    for (size_t i = 5 * 512 + 20; i < 5 * 512 + plen - 8; i++) /* corrupt deflate data */
        c[i] ^= 0x5a;
    refused(c, bzlen, "gzip payload");
    free(c);
    free(bz);
    /* a truncated payload whose header says the whole length */
    bz = make_bz(gz, plen - 30, &bzlen);
    refused(bz, bzlen, "gzip payload: corrupt or truncated");
    free(bz);
    free(gz);
    unsigned char *xz = xz_of(elf, elen, &plen);
    bz = make_bz(xz, plen - 10, &bzlen);
    refused(bz, bzlen, "xz payload: corrupt or truncated");
    free(bz);
    free(xz);
    unsigned char *lz = lz4_of(elf, elen, &plen);
    bz = make_bz(lz, plen - 100, &bzlen);                /* block size past the end */
    refused(bz, bzlen, "lz4 payload");
    free(bz);
    free(lz);
    free(elf);
}

static void test_lz4_block(void **state)
{
    unsigned char out[64];
    (void)state;
    /* "abcd" then a match of 8 at offset 4 (overlapping copy), then literals "z" */
    const unsigned char ok[] = {0x44, 'a', 'b', 'c', 'd', 4, 0, 0x10, 'z'};
    assert_int_equal(lz4_block_decompress(ok, sizeof(ok), out, sizeof(out)), 13);
    assert_memory_equal(out, "abcdabcdabcdz", 13);
    assert_int_equal(lz4_block_decompress(ok, sizeof(ok), out, 10), -1); /* no room */
    const unsigned char off0[] = {0x44, 'a', 'b', 'c', 'd', 0, 0, 0x10, 'z'};
    assert_int_equal(lz4_block_decompress(off0, sizeof(off0), out, sizeof(out)), -1);
    const unsigned char before[] = {0x44, 'a', 'b', 'c', 'd', 9, 0, 0x10, 'z'};
    assert_int_equal(lz4_block_decompress(before, sizeof(before), out, sizeof(out)), -1);
    const unsigned char litlong[] = {0xf0, 0xff, 0xff, 5, 'a'}; /* literals past the input */
    assert_int_equal(lz4_block_decompress(litlong, sizeof(litlong), out, sizeof(out)), -1);
    const unsigned char ext_end[] = {0xf0, 0xff};                /* extension cut short */
    assert_int_equal(lz4_block_decompress(ext_end, sizeof(ext_end), out, sizeof(out)), -1);
    const unsigned char half_off[] = {0x14, 'a', 4};             /* offset cut short */
    assert_int_equal(lz4_block_decompress(half_off, sizeof(half_off), out, sizeof(out)), -1);
}

static void test_kernel_load(void **state)
{
    unsigned char *out;
    size_t len, elen, plen, bzlen;
    char err[KERNEL_ERR_MAX];
    char dir[] = "/tmp/pvkit-test-kernel.XXXXXX";
    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_int_equal(kernel_load("/nonexistent/vmlinuz", &out, &len, err), -ENOENT);
    assert_string_equal(err, "/nonexistent/vmlinuz: No such file or directory");
    assert_int_equal(kernel_load(dir, &out, &len, err), -EISDIR);
    assert_string_equal(strchr(err, ':'), ": Is a directory");

    char *path = xasprintf("%s/k", dir);
    unsigned char *elf = make_elf("Xen", &elen);
    FILE *f = fopen(path, "wb");
    fwrite(elf, 1, elen, f);
    fclose(f);
    assert_int_equal(kernel_load(path, &out, &len, err), 0);
    assert_int_equal(len, elen);
    free(out);

    unsigned char *gz = gzip_of(elf, elen, &plen), *bz = make_bz(gz, plen, &bzlen);
    f = fopen(path, "wb");
    fwrite(bz, 1, bzlen, f);
    fclose(f);
    assert_int_equal(kernel_load(path, &out, &len, err), 0);
    assert_memory_equal(out, elf, elen);
    free(out);
    free(bz);
    free(gz);

    unsigned char *gnu = make_elf("GNU", &elen); /* an ELF, but no PV kernel */
    f = fopen(path, "wb");
    fwrite(gnu, 1, elen, f);
    fclose(f);
    assert_int_equal(kernel_load(path, &out, &len, err), -EINVAL);
    assert_non_null(strstr(err, "without Xen notes"));
    gz = gzip_of(gnu, elen, &plen);
    bz = make_bz(gz, plen, &bzlen);
    f = fopen(path, "wb");
    fwrite(bz, 1, bzlen, f);
    fclose(f);
    assert_int_equal(kernel_load(path, &out, &len, err), -EINVAL);
    assert_non_null(strstr(err, "holds no PV kernel"));
    free(bz);
    free(gz);
    free(gnu);

    f = fopen(path, "w");
    fputs("#!/bin/sh\necho not a kernel\n", f);
    fclose(f);
    assert_int_equal(kernel_load(path, &out, &len, err), -EINVAL);
    char *want = xasprintf("%s: not a PV kernel (an ELF64 x86-64 with Xen notes, or a bzImage "
                           "holding one)", path);
    assert_string_equal(err, want);
    free(want);
    unlink(path);
    rmdir(dir);
    free(path);
    free(elf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_flags),
        cmocka_unit_test(test_args_overrides),
        cmocka_unit_test(test_args_config_path),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_format_list),
        cmocka_unit_test(test_format_json),
        cmocka_unit_test(test_format_vcpu_uptime),
        cmocka_unit_test(test_format_info_top),
        cmocka_unit_test(test_format_stats),
        cmocka_unit_test(test_kernel_elf),
        cmocka_unit_test(test_kernel_bzimage),
        cmocka_unit_test(test_kernel_hostile),
        cmocka_unit_test(test_lz4_block),
        cmocka_unit_test(test_kernel_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
