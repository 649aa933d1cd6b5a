/*
 * kernel: PV ELF kernels and the bzImages that hold them (kernel.h).
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

/* One line into ERR; returns RC. */
#define fail(err, rc, ...) errbuf_fail(err, KERNEL_ERR_MAX, rc, __VA_ARGS__)

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* --- ELF ---------------------------------------------------------------------- */

bool kernel_is_elf64(const unsigned char *buf, size_t len)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
    return len >= sizeof(Elf64_Ehdr) && memcmp(buf, ELFMAG, SELFMAG) == 0 &&
           buf[EI_CLASS] == ELFCLASS64 && buf[EI_DATA] == ELFDATA2LSB &&
           eh->e_machine == EM_X86_64;
}

/* True if [OFF, OFF+SIZE) lies in a LEN-byte file. */
static bool in_file(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

/* True if a table of NUM entries of ENTSIZE bytes at OFF lies, 8-aligned, in a
 * LEN-byte file, and ENTSIZE is WANT (the entry size this code reads). */
static bool table_in_file(uint64_t off, uint64_t num, uint64_t entsize, uint64_t want, size_t len)
{
    return entsize == want && in_file(off, num * want, len) && off % 8 == 0;
}

/* True if the notes in [OFF, OFF+SIZE) lie, 4-aligned, in the LEN-byte BUF
 * and include one owned by "Xen". */
static bool notes_have_xen(const unsigned char *buf, size_t len, uint64_t off, uint64_t size)
{
    uint64_t pos = 0;
    if (!in_file(off, size, len) || off % 4 != 0)
        return false;
    while (size - pos >= sizeof(Elf64_Nhdr)) {
        const Elf64_Nhdr *n = (const Elf64_Nhdr *)(buf + off + pos);
        uint64_t name = ((uint64_t)n->n_namesz + 3) & ~3ull;
        uint64_t desc = ((uint64_t)n->n_descsz + 3) & ~3ull;
        pos += sizeof(*n);
        if (name > size - pos)
            return false;
        if (n->n_namesz == 4 && memcmp(buf + off + pos, "Xen", 4) == 0)
            return true;
        pos += name;
        if (desc > size - pos)
            return false;
        pos += desc;
    }
    return false;
}

bool kernel_elf_has_xen_notes(const unsigned char *buf, size_t len)
{
    if (!kernel_is_elf64(buf, len))
        return false;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
    if (table_in_file(eh->e_phoff, eh->e_phnum, eh->e_phentsize, sizeof(Elf64_Phdr), len))
        for (unsigned i = 0; i < eh->e_phnum; i++) {
            const Elf64_Phdr *ph = (const Elf64_Phdr *)(buf + eh->e_phoff) + i;
            if (ph->p_type == PT_NOTE && notes_have_xen(buf, len, ph->p_offset, ph->p_filesz))
                return true;
        }
    if (table_in_file(eh->e_shoff, eh->e_shnum, eh->e_shentsize, sizeof(Elf64_Shdr), len))
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            const Elf64_Shdr *sh = (const Elf64_Shdr *)(buf + eh->e_shoff) + i;
            if (sh->sh_type == SHT_NOTE && notes_have_xen(buf, len, sh->sh_offset, sh->sh_size))
                return true;
        }
    return false;
}

/* --- decompressors -------------------------------------------------------------- */

/* A growing output buffer, capped at KERNEL_MAX_IMAGE. */
struct out {
    unsigned char *buf;
    size_t len, cap;
};

/* Makes room for at least WANT more bytes. 0 or -ENOMEM / -EFBIG. */
static int out_reserve(struct out *o, size_t want)
{
    if (want > KERNEL_MAX_IMAGE - o->len)
        return -EFBIG;
    if (o->cap - o->len >= want)
        return 0;
    size_t cap = o->cap ? o->cap : 1u << 20;
    while (cap - o->len < want)
        cap *= 2;
    if (cap > KERNEL_MAX_IMAGE)
        cap = KERNEL_MAX_IMAGE;
    unsigned char *b = realloc(o->buf, cap);
    if (!b)
        return -ENOMEM;
    o->buf = b;
    o->cap = cap;
    return 0;
}

static int out_error(struct out *o, int rc, const char *fmt_name, char err[KERNEL_ERR_MAX])
{
    free(o->buf);
    o->buf = NULL;
    if (rc == -EFBIG)
        return fail(err, -EINVAL, "%s payload: unpacks to more than %u MiB", fmt_name,
                    KERNEL_MAX_IMAGE >> 20);
    if (rc == -ENOMEM)
        return fail(err, -ENOMEM, "%s payload: out of memory", fmt_name);
    return fail(err, -EINVAL, "%s payload: corrupt or truncated data", fmt_name);
}

static int unpack_gzip(const unsigned char *in, size_t len, struct out *o, char err[KERNEL_ERR_MAX])
{
    z_stream zs = {0};
    int rc = 0, zr;

    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return fail(err, -ENOMEM, "gzip payload: out of memory");
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    do {
        if ((rc = out_reserve(o, 1u << 20)))
            break;
        zs.next_out = o->buf + o->len;
        zs.avail_out = (uInt)(o->cap - o->len);
        zr = inflate(&zs, Z_NO_FLUSH);
        o->len = o->cap - zs.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END)
            rc = -EINVAL;
        else if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)
            rc = -EINVAL; /* input ended inside the stream */
        if (rc)
            break;
        if (zr == Z_STREAM_END)
            break;
    } while (1);
    inflateEnd(&zs);
    return rc ? out_error(o, rc, "gzip", err) : 0;
}

static int unpack_lzma(const unsigned char *in, size_t len, bool xz, struct out *o,
                       char err[KERNEL_ERR_MAX])
{
    lzma_stream ls = LZMA_STREAM_INIT;
    const char *name = xz ? "xz" : "lzma";
    lzma_ret lr = xz ? lzma_stream_decoder(&ls, UINT64_MAX, 0)
                     : lzma_alone_decoder(&ls, UINT64_MAX);
    int rc = 0;

    if (lr != LZMA_OK)
        return fail(err, -ENOMEM, "%s payload: out of memory", name);
    ls.next_in = in;
    ls.avail_in = len;
    for (;;) {
        if ((rc = out_reserve(o, 1u << 20)))
            break;
        ls.next_out = o->buf + o->len;
        ls.avail_out = o->cap - o->len;
        lr = lzma_code(&ls, LZMA_FINISH);
        o->len = o->cap - ls.avail_out;
        if (lr == LZMA_STREAM_END)
            break;
        if (lr == LZMA_MEM_ERROR) {
            rc = -ENOMEM;
            break;
        }
        if (lr != LZMA_OK || (ls.avail_in == 0 && ls.avail_out != 0)) {
            rc = -EINVAL;
            break;
        }
    }
    lzma_end(&ls);
    return rc ? out_error(o, rc, name, err) : 0;
}

#define LZ4_LEGACY_MAGIC 0x184C2102u
#define LZ4_LEGACY_BLOCK (8u << 20) /* uncompressed bytes per legacy block */

/* LZ4 legacy frames: magic, then blocks each prefixed by its compressed size. */
static int unpack_lz4(const unsigned char *in, size_t len, struct out *o, char err[KERNEL_ERR_MAX])
{
    size_t pos = 4;
    int rc = 0;

    while (len - pos >= 4) {
        uint32_t csize = le32(in + pos);
        pos += 4;
        if (csize == LZ4_LEGACY_MAGIC)
            continue;
        if (csize > len - pos) {
            if (pos == len && o->len)
                break; /* kbuild's appended uncompressed size */
            rc = -EINVAL;
            break;
        }
        if ((rc = out_reserve(o, LZ4_LEGACY_BLOCK)))
            break;
        long n = lz4_block_decompress(in + pos, csize, o->buf + o->len, LZ4_LEGACY_BLOCK);
        if (n < 0) {
            rc = -EINVAL;
            break;
        }
        o->len += (size_t)n;
        pos += csize;
    }
    if (!rc && o->len == 0)
        rc = -EINVAL;
    return rc ? out_error(o, rc, "lz4", err) : 0;
}

/* Runs PROG ARGS with IN on its stdin (through a temporary file) and collects its stdout. */
static int unpack_tool(const unsigned char *in, size_t len, const char *name,
                       char *const argv[], struct out *o, char err[KERNEL_ERR_MAX])
{
    char tmpl[] = "/tmp/pvkit-payload.XXXXXX";
    int fd = mkstemp(tmpl), pfd[2];
    int rc = 0;

    if (fd < 0)
        return fail(err, -errno, "%s payload: temporary file: %s", name, strerror(errno));
    unlink(tmpl);
    for (size_t done = 0; done < len;) {
        ssize_t n = write(fd, in + done, len - done);
        if (n <= 0) {
            close(fd);
            return fail(err, -EIO, "%s payload: temporary file: %s", name, strerror(errno));
        }
        done += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        close(fd);
        return fail(err, -errno, "%s payload: pipe: %s", name, strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 0);
        dup2(pfd[1], 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd);
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        return fail(err, -errno, "%s payload: fork: %s", name, strerror(errno));
    }
    for (;;) {
        if ((rc = out_reserve(o, 1u << 20)))
            break;
        ssize_t n = read(pfd[0], o->buf + o->len, o->cap - o->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        o->len += (size_t)n;
    }
    close(pfd[0]);
    if (rc)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!rc && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        free(o->buf);
        o->buf = NULL;
        return fail(err, -ENOTSUP, "%s payload: needs the %s program, which is not in PATH",
                    name, argv[0]);
    }
    /* Trailing bytes (kbuild's size) make some tools complain: judge the output only. */
    if (!rc && o->len == 0)
        rc = -EINVAL;
    return rc ? out_error(o, rc, name, err) : 0;
}

/* --- bzImage ---------------------------------------------------------------------- */

/* Offsets in the x86 boot protocol's setup header (Documentation/x86/boot.rst). */
#define BZ_SETUP_SECTS    0x1f1
#define BZ_BOOT_FLAG      0x1fe
#define BZ_HEADER         0x202
#define BZ_VERSION        0x206
#define BZ_PAYLOAD_OFFSET 0x248
#define BZ_PAYLOAD_LENGTH 0x24c

int kernel_unpack_bzimage(const unsigned char *buf, size_t len, unsigned char **out,
                          size_t *out_len, char err[KERNEL_ERR_MAX])
{
    if (len < BZ_PAYLOAD_LENGTH + 4 || buf[BZ_BOOT_FLAG] != 0x55 || buf[BZ_BOOT_FLAG + 1] != 0xaa ||
        memcmp(buf + BZ_HEADER, "HdrS", 4) != 0)
        return fail(err, -EINVAL, "not a bzImage");
    unsigned version = (unsigned)buf[BZ_VERSION] | (unsigned)buf[BZ_VERSION + 1] << 8;
    if (version < 0x208)
        return fail(err, -EINVAL, "bzImage boot protocol %u.%02u has no payload fields (2.08+)",
                    version >> 8, version & 0xff);
    uint64_t setup = ((uint64_t)(buf[BZ_SETUP_SECTS] ? buf[BZ_SETUP_SECTS] : 4) + 1) * 512;
    uint64_t off = setup + le32(buf + BZ_PAYLOAD_OFFSET);
    uint64_t plen = le32(buf + BZ_PAYLOAD_LENGTH);
    if (!in_file(off, plen, len) || plen < 8)
        return fail(err, -EINVAL, "bzImage payload (offset %llu, %llu bytes) is outside the "
                    "%zu-byte file", (unsigned long long)off, (unsigned long long)plen, len);
    const unsigned char *p = buf + off;
    struct out o = {0};
    int rc;

    if (p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e)) {
        rc = unpack_gzip(p, plen, &o, err);
    } else if (memcmp(p, "\xfd" "7zXZ\0", 6) == 0) {
        rc = unpack_lzma(p, plen, true, &o, err);
    } else if (p[0] == 0x5d && p[1] == 0 && p[2] == 0) {
        rc = unpack_lzma(p, plen, false, &o, err);
    } else if (le32(p) == LZ4_LEGACY_MAGIC) {
        rc = unpack_lz4(p, plen, &o, err);
    } else if (memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0) {
        char *argv[] = {"zstd", "-dcq", NULL};
        rc = unpack_tool(p, plen, "zstd", argv, &o, err);
    } else if (memcmp(p, "BZh", 3) == 0) {
        char *argv[] = {"bzip2", "-dc", NULL};
        rc = unpack_tool(p, plen, "bzip2", argv, &o, err);
    } else if (memcmp(p, "\x89LZO", 4) == 0) {
        char *argv[] = {"lzop", "-dc", NULL};
        rc = unpack_tool(p, plen, "lzo", argv, &o, err);
    } else {
        return fail(err, -EINVAL, "bzImage payload in an unknown compression format "
                    "(%02x %02x %02x %02x)", p[0], p[1], p[2], p[3]);
    }
    if (rc)
        return rc;
    *out = o.buf;
    *out_len = o.len;
    return 0;
}

int kernel_load(const char *path, unsigned char **out, size_t *out_len, char err[KERNEL_ERR_MAX])
{
    unsigned char *buf;
    size_t len;
    int rc = read_whole_file(path, KERNEL_MAX_FILE, &buf, &len);

    if (rc == -EFBIG)
        return fail(err, rc, "%s: larger than %u MiB", path, KERNEL_MAX_FILE >> 20);
    if (rc)
        return fail(err, rc, "%s: %s", path, strerror(-rc));
    return kernel_from_buffer(path, buf, len, out, out_len, err);
}

int kernel_from_buffer(const char *path, unsigned char *buf, size_t len, unsigned char **out,
                       size_t *out_len, char err[KERNEL_ERR_MAX])
{
    int rc;

    if (kernel_is_elf64(buf, len)) {
        if (!kernel_elf_has_xen_notes(buf, len)) {
            free(buf);
            return fail(err, -EINVAL, "%s: an ELF64 kernel without Xen notes (not a PV kernel)", path);
        }
        *out = buf;
        *out_len = len;
        return 0;
    }
    unsigned char *elf;
    size_t elf_len;
    char why[KERNEL_ERR_MAX];
    rc = kernel_unpack_bzimage(buf, len, &elf, &elf_len, why);
    free(buf);
    if (rc == -EINVAL && strcmp(why, "not a bzImage") == 0)
        return fail(err, rc, "%s: not a PV kernel (an ELF64 x86-64 with Xen notes, or a "
                    "bzImage holding one)", path);
    if (rc)
        return fail(err, rc, "%s: %s", path, why);
    if (!kernel_elf_has_xen_notes(elf, elf_len)) {
        free(elf);
        return fail(err, -EINVAL, "%s: the bzImage holds no PV kernel (no ELF64 with Xen notes)",
                    path);
    }
    *out = elf;
    *out_len = elf_len;
    return 0;
}
