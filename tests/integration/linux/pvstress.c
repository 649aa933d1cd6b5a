/*
 * pvstress: user-space stress and hostility checks for a Linux guest of
 * pvkit (issue 5), built on the host with `gcc -static` and put into the
 * workload initramfs as /bin/pvstress. Busybox has no tool for these.
 *
 *   pvstress pattern SEED MIB   write MIB MiB of deterministic pseudo-random
 *                               bytes (xorshift64*, seeded) to stdout; the
 *                               host computes the same stream's checksum
 *   pvstress churn ITER         ITER rounds of mmap/munmap/mprotect/mremap
 *                               on a pool of anonymous mappings, with the
 *                               contents verified, protection faults probed
 *                               (a write to a read-only page and a read of an
 *                               unmapped hole must fault), and copy-on-write
 *                               and MAP_SHARED checked across fork
 *   pvstress faults MIB ROUNDS  ROUNDS times: map MIB MiB of anonymous
 *                               memory, write one byte of every page (one
 *                               page fault, one new PTE each), check them,
 *                               unmap; for make bench-mm's page-fault row
 *   pvstress now                the monotonic clock in microseconds (busybox
 *                               date has no sub-second format)
 *   pvstress hostile            in one child each: privileged instructions
 *                               (cli, sti, hlt, in, out, rdmsr, wrmsr, mov
 *                               to/from CR0/CR3, lgdt, invlpg, wbinvd, int
 *                               0x41, far jump to a hypervisor selector, iret
 *                               with a null CS) and wild memory accesses
 *                               (NULL, the hypervisor's and the kernel's
 *                               ranges, non-canonical, own text, NX data);
 *                               each child must die of the expected signal
 *                               (SIGSEGV; SIGILL for ud2) within 5 seconds
 *
 * Each subcommand prints what it checked and exits 0 when everything was as
 * expected, 1 otherwise (2 on a usage error). C11 + POSIX, x86-64 only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static uint64_t rng_state;

/* xorshift64*: small, deterministic, identical on host and guest. */
static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void rng_seed(uint64_t seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    if (rng_state == 0)
        rng_state = 1;
}

/* Writes all of buf to fd; returns 0 or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cmd_pattern(uint64_t seed, unsigned long mib)
{
    static uint64_t buf[65536 / 8];
    rng_seed(seed);
    for (unsigned long chunk = 0; chunk < mib * 16; chunk++) {
        for (size_t i = 0; i < sizeof(buf) / 8; i++)
            buf[i] = rng_next();
        if (write_all(1, buf, sizeof(buf)) != 0) {
            perror("pvstress pattern: write");
            return 1;
        }
    }
    return 0;
}

/* ---- fault probing -------------------------------------------------- */

static sigjmp_buf probe_env;
static volatile sig_atomic_t probing;

static void on_segv(int sig)
{
    (void)sig;
    if (probing)
        siglongjmp(probe_env, 1);
    _exit(99);
}

/* Returns 1 if writing a byte at p faults (SIGSEGV), 0 if it succeeds. */
static int write_faults(volatile char *p)
{
    if (sigsetjmp(probe_env, 1)) {
        probing = 0;
        return 1;
    }
    probing = 1;
    *p = 0x5a;
    probing = 0;
    return 0;
}

/* Returns 1 if reading a byte at p faults (SIGSEGV), 0 if it succeeds. */
static int read_faults(const volatile char *p)
{
    if (sigsetjmp(probe_env, 1)) {
        probing = 0;
        return 1;
    }
    probing = 1;
    (void)*p;
    probing = 0;
    return 0;
}

/* ---- churn ---------------------------------------------------------- */

struct slot {
    char *addr;
    size_t pages;
    uint64_t tag;
};

static unsigned long failures;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            printf("pvstress churn: FAIL ");                                 \
            printf(__VA_ARGS__);                                             \
            printf("\n");                                                    \
        }                                                                    \
    } while (0)

static void fill(struct slot *s)
{
    for (size_t i = 0; i < s->pages; i++) {
        uint64_t *w = (uint64_t *)(s->addr + i * PAGE);
        w[0] = s->tag ^ i;
        w[PAGE / 8 - 1] = ~(s->tag ^ i);
    }
}

static int verify(const struct slot *s)
{
    for (size_t i = 0; i < s->pages; i++) {
        const uint64_t *w = (const uint64_t *)(s->addr + i * PAGE);
        if (w[0] != (s->tag ^ i) || w[PAGE / 8 - 1] != ~(s->tag ^ i))
            return 0;
    }
    return 1;
}

/* Fork checks: a private page is copied on write, a shared one is not. */
static void fork_checks(unsigned long *forks)
{
    size_t len = 4 * PAGE;
    char *priv = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(priv != MAP_FAILED && shared != MAP_FAILED, "fork mmap: %s",
          strerror(errno));
    if (priv == MAP_FAILED || shared == MAP_FAILED)
        return;
    memset(priv, 'P', len);
    shared[0] = 'S';
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int ok = priv[0] == 'P' && priv[len - 1] == 'P';
        priv[0] = 'C';
        priv[len - 1] = 'C';
        shared[0] = 'c';
        ok = ok && priv[0] == 'C' && priv[len - 1] == 'C';
        _exit(ok ? 0 : 3);
    }
    if (pid > 0) {
        int st;
        CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "fork child saw wrong memory (status %#x)", st);
        CHECK(priv[0] == 'P' && priv[len - 1] == 'P',
              "copy-on-write: child's store reached the parent");
        CHECK(shared[0] == 'c', "MAP_SHARED: child's store not seen");
        (*forks)++;
    }
    munmap(priv, len);
    munmap(shared, PAGE);
}

static int cmd_churn(unsigned long iters)
{
    enum { NSLOTS = 32 };
    struct slot slots[NSLOTS] = {0};
    unsigned long maps = 0, unmaps = 0, protects = 0, remaps = 0;
    unsigned long faults = 0, forks = 0;
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_segv;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    rng_seed(42);

    for (unsigned long it = 0; it < iters; it++) {
        struct slot *s = &slots[rng_next() % NSLOTS];
        if (s->addr == NULL) {
            s->pages = 1 + rng_next() % 64;
            s->tag = rng_next();
            s->addr = mmap(NULL, s->pages * PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            CHECK(s->addr != MAP_FAILED, "mmap %zu pages: %s", s->pages,
                  strerror(errno));
            if (s->addr == MAP_FAILED) {
                s->addr = NULL;
                continue;
            }
            maps++;
            fill(s);
            CHECK(verify(s), "fresh mapping lost its contents (iter %lu)", it);
            continue;
        }
        CHECK(verify(s), "mapping contents changed (iter %lu)", it);
        switch (rng_next() % 4) {
        case 0: /* read-only, probe, writable again */
            CHECK(mprotect(s->addr, s->pages * PAGE, PROT_READ) == 0,
                  "mprotect RO: %s", strerror(errno));
            protects++;
            CHECK(verify(s), "contents after mprotect RO (iter %lu)", it);
            if (it % 4 == 0) {
                int f = write_faults(s->addr + (s->pages - 1) * PAGE + 8);
                CHECK(f, "store to a read-only page did not fault");
                faults += (unsigned long)f;
            }
            CHECK(mprotect(s->addr, s->pages * PAGE, PROT_READ | PROT_WRITE) == 0,
                  "mprotect RW: %s", strerror(errno));
            s->tag = rng_next();
            fill(s);
            break;
        case 1: /* punch a hole, probe it, drop the rest */
            if (s->pages >= 3) {
                size_t hole = 1 + rng_next() % (s->pages - 2);
                CHECK(munmap(s->addr + hole * PAGE, PAGE) == 0, "munmap hole: %s",
                      strerror(errno));
                int f = read_faults(s->addr + hole * PAGE);
                CHECK(f, "read of an unmapped hole did not fault");
                faults += (unsigned long)f;
                struct slot head = {s->addr, hole, s->tag};
                CHECK(verify(&head), "pages before the hole changed");
                munmap(s->addr, hole * PAGE);
                munmap(s->addr + (hole + 1) * PAGE, (s->pages - hole - 1) * PAGE);
            } else {
                CHECK(munmap(s->addr, s->pages * PAGE) == 0, "munmap: %s",
                      strerror(errno));
            }
            unmaps++;
            s->addr = NULL;
            break;
        case 2: { /* grow with mremap (may move), contents must follow */
            size_t np = s->pages + 1 + rng_next() % 16;
            char *n = mremap(s->addr, s->pages * PAGE, np * PAGE, MREMAP_MAYMOVE);
            CHECK(n != MAP_FAILED, "mremap: %s", strerror(errno));
            if (n != MAP_FAILED) {
                s->addr = n;
                CHECK(verify(s), "contents after mremap (iter %lu)", it);
                s->pages = np;
                fill(s);
                remaps++;
            }
            break;
        }
        default: /* plain unmap */
            CHECK(munmap(s->addr, s->pages * PAGE) == 0, "munmap: %s",
                  strerror(errno));
            unmaps++;
            s->addr = NULL;
            break;
        }
        if (it % 256 == 255)
            fork_checks(&forks);
    }
    for (int i = 0; i < NSLOTS; i++) {
        if (slots[i].addr) {
            CHECK(verify(&slots[i]), "final contents of slot %d", i);
            munmap(slots[i].addr, slots[i].pages * PAGE);
            unmaps++;
        }
    }
    printf("pvstress churn: %lu iterations, %lu mmap, %lu munmap, %lu mprotect, "
           "%lu mremap, %lu expected faults, %lu fork checks, %lu failures\n",
           iters, maps, unmaps, protects, remaps, faults, forks, failures);
    return failures == 0 ? 0 : 1;
}

/* ---- hostile -------------------------------------------------------- */

static void h_cli(void) { __asm__ volatile("cli"); }
static void h_sti(void) { __asm__ volatile("sti"); }
static void h_hlt(void) { __asm__ volatile("hlt"); }
static void h_in(void)
{
    unsigned char v;
    __asm__ volatile("inb %%dx, %%al" : "=a"(v) : "d"(0x3f8));
}
static void h_out(void) { __asm__ volatile("outb %%al, %%dx" : : "a"(0), "d"(0xcf9)); }
static void h_rdmsr(void)
{
    unsigned lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080));
}
static void h_wrmsr(void) { __asm__ volatile("wrmsr" : : "c"(0xc0000080), "a"(0), "d"(0)); }
static void h_mov_cr3(void) { __asm__ volatile("mov %0, %%cr3" : : "r"(0UL)); }
static void h_mov_from_cr0(void)
{
    unsigned long v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
}
static void h_mov_cr0(void) { __asm__ volatile("mov %0, %%cr0" : : "r"(0UL)); }
static void h_lgdt(void)
{
    static const struct __attribute__((packed)) { uint16_t lim; uint64_t base; } d = {0, 0};
    __asm__ volatile("lgdt %0" : : "m"(d));
}
static void h_invlpg(void) { __asm__ volatile("invlpg (%0)" : : "r"(0UL) : "memory"); }
static void h_wbinvd(void) { __asm__ volatile("wbinvd"); }
static void h_int41(void) { __asm__ volatile("int $0x41"); }
static void h_ljmp_hv_cs(void)
{
    /* far jump through a memory operand to Xen's hypervisor CS 0xe008 */
    static const struct __attribute__((packed)) { uint32_t off; uint16_t sel; } t = {0x1000, 0xe008};
    __asm__ volatile("ljmp *%0" : : "m"(t));
}
static void h_iret_null_cs(void)
{
    __asm__ volatile("mov %%ss, %%rax\n\t"
                     "push %%rax\n\t"
                     "push %%rsp\n\t"
                     "pushf\n\t"
                     "push $0\n\t"      /* null CS */
                     "lea 1f(%%rip), %%rax\n\t"
                     "push %%rax\n\t"
                     "iretq\n"
                     "1:"
                     : : : "rax", "memory");
}
static void h_ud2(void) { __asm__ volatile("ud2"); }
static void h_read_null(void) { (void)*(volatile char *)0; }
static void h_write_hv(void) { *(volatile char *)0xffff800000000000UL = 1; }
static void h_write_hv_directmap(void) { *(volatile char *)0xffff830000001000UL = 1; }
static void h_read_kernel(void) { (void)*(volatile char *)0xffffffff81000000UL; }
static void h_write_kernel_directmap(void) { *(volatile char *)0xffff888000000000UL = 1; }
static void h_noncanonical(void) { (void)*(volatile char *)0x0000800000000000UL; }
static void h_call_kernel(void)
{
    void (*f)(void) = (void (*)(void))0xffffffff81000000UL;
    f();
}
static void h_write_text(void) { *(volatile char *)(uintptr_t)h_write_text = (char)0xc3; }
static void h_exec_data(void)
{
    static unsigned char ret_insn[16] = {0xc3};
    void (*f)(void) = (void (*)(void))(uintptr_t)ret_insn;
    f();
}

struct hostile_case {
    const char *name;
    void (*fn)(void);
    int sig;
};

static const struct hostile_case cases[] = {
    {"cli", h_cli, SIGSEGV},
    {"sti", h_sti, SIGSEGV},
    {"hlt", h_hlt, SIGSEGV},
    {"in", h_in, SIGSEGV},
    {"out", h_out, SIGSEGV},
    {"rdmsr", h_rdmsr, SIGSEGV},
    {"wrmsr", h_wrmsr, SIGSEGV},
    {"mov_to_cr3", h_mov_cr3, SIGSEGV},
    {"mov_from_cr0", h_mov_from_cr0, SIGSEGV},
    {"mov_to_cr0", h_mov_cr0, SIGSEGV},
    {"lgdt", h_lgdt, SIGSEGV},
    {"invlpg", h_invlpg, SIGSEGV},
    {"wbinvd", h_wbinvd, SIGSEGV},
    {"int_0x41", h_int41, SIGSEGV},
    {"ljmp_hv_cs", h_ljmp_hv_cs, SIGSEGV},
    {"iret_null_cs", h_iret_null_cs, SIGSEGV},
    {"ud2", h_ud2, SIGILL},
    {"read_null", h_read_null, SIGSEGV},
    {"write_hypervisor", h_write_hv, SIGSEGV},
    {"write_hv_directmap", h_write_hv_directmap, SIGSEGV},
    {"read_kernel_text", h_read_kernel, SIGSEGV},
    {"write_kernel_directmap", h_write_kernel_directmap, SIGSEGV},
    {"noncanonical", h_noncanonical, SIGSEGV},
    {"call_kernel", h_call_kernel, SIGSEGV},
    {"write_own_text", h_write_text, SIGSEGV},
    {"exec_nx_data", h_exec_data, SIGSEGV},
};

static int cmd_hostile(void)
{
    unsigned n = sizeof(cases) / sizeof(cases[0]), bad = 0;
    for (unsigned i = 0; i < n; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("pvstress hostile: fork");
            return 1;
        }
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL);
            signal(SIGILL, SIG_DFL);
            alarm(5);
            cases[i].fn();
            _exit(0); /* survived: the instruction or access was allowed */
        }
        int st;
        if (waitpid(pid, &st, 0) != pid) {
            perror("pvstress hostile: waitpid");
            return 1;
        }
        int ok = WIFSIGNALED(st) && WTERMSIG(st) == cases[i].sig;
        if (!ok)
            bad++;
        if (WIFSIGNALED(st))
            printf("pvstress hostile: %-24s killed by %s%s\n", cases[i].name,
                   strsignal(WTERMSIG(st)), ok ? "" : " (UNEXPECTED)");
        else
            printf("pvstress hostile: %-24s NOT killed (exit %d)\n",
                   cases[i].name, WEXITSTATUS(st));
    }
    printf("pvstress hostile: %u cases, %u as expected, %u wrong\n", n, n - bad, bad);
    return bad == 0 ? 0 : 1;
}

/* faults: every page of a fresh anonymous mapping written once, ROUNDS times. */
static int cmd_faults(unsigned long mib, unsigned long rounds)
{
    size_t len = mib << 20;
    unsigned long bad = 0;

    for (unsigned long r = 0; r < rounds; r++) {
        volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("pvstress faults: mmap");
            return 1;
        }
        for (size_t off = 0; off < len; off += PAGE)
            p[off] = (unsigned char)(off / PAGE + r);
        for (size_t off = 0; off < len; off += PAGE)
            bad += p[off] != (unsigned char)(off / PAGE + r);
        munmap((void *)p, len);
    }
    printf("faults: %lu rounds of %lu pages, %lu bad\n", rounds, (unsigned long)(len / PAGE), bad);
    return bad ? 1 : 0;
}

/* now: CLOCK_MONOTONIC in microseconds. */
static int cmd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%lld\n", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: pvstress pattern SEED MIB | churn ITER | faults MIB ROUNDS | now | hostile\n");
    exit(2);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "pattern") == 0)
        return cmd_pattern(strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
    if (argc == 3 && strcmp(argv[1], "churn") == 0)
        return cmd_churn(strtoul(argv[2], NULL, 0));
    if (argc == 4 && strcmp(argv[1], "faults") == 0)
        return cmd_faults(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
    if (argc == 2 && strcmp(argv[1], "now") == 0)
        return cmd_now();
    if (argc == 2 && strcmp(argv[1], "hostile") == 0)
        return cmd_hostile();
    usage();
}
