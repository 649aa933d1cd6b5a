/*
 * kernel: turns the kernel file a config names into the image the
 * hypervisor's PV builder loads: an ELF64 x86-64 file with Xen notes.
 * xl accepts both such an ELF and a Linux bzImage (e.g. Debian's
 * /boot/vmlinuz-*); a bzImage's compressed vmlinux is found through its
 * setup header (boot protocol 2.08+: payload_offset and payload_length
 * after the setup sectors), decompressed in-process for gzip (zlib), xz
 * and lzma (liblzma) and LZ4's legacy frames (lz4.c here; Debian's cloud
 * kernel uses it), and through the decompressor program for zstd, bzip2
 * and lzo (zstd, bzip2, lzop in PATH).
 *
 * Every offset and length in the input is checked against its size, so a
 * truncated or hostile file is refused with one line, never read past.
 * Output is capped at KERNEL_MAX_IMAGE bytes.
 */
#ifndef PVKIT_KERNEL_H
#define PVKIT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define KERNEL_ERR_MAX   256
#define KERNEL_MAX_FILE  (256u << 20)  /* bytes of a kernel or initrd file */
#define KERNEL_MAX_IMAGE (512u << 20)  /* bytes of an unpacked kernel */

/* True if BUF (LEN bytes) is an ELF64 little-endian x86-64 file. */
bool kernel_is_elf64(const unsigned char *buf, size_t len);

/*
 * True if the ELF64 file BUF has a note owned by "Xen" (in a PT_NOTE
 * segment or SHT_NOTE section), every header and note checked to lie in
 * the file.
 */
bool kernel_elf_has_xen_notes(const unsigned char *buf, size_t len);

/*
 * Unpacks the bzImage BUF (LEN bytes) into a fresh buffer *OUT (*OUT_LEN
 * bytes, free()d by the caller). 0, or -EINVAL / -ENOTSUP / -ENOMEM with
 * one line in ERR (without the file name: "not a bzImage", "payload
 * outside the file", "xz payload: corrupt data", "zstd payload: needs the
 * zstd program", ...). The result is not checked to be an ELF.
 */
int kernel_unpack_bzimage(const unsigned char *buf, size_t len, unsigned char **out,
                          size_t *out_len, char err[KERNEL_ERR_MAX]);

/*
 * Reads the kernel file PATH and gives the PV ELF image: the file itself
 * if it is one, else what its bzImage holds. 0 with *OUT (free()d by the
 * caller); else -errno with one line in ERR: "PATH: No such file or
 * directory", "PATH: not a PV kernel (an ELF64 x86-64 with Xen notes, or
 * a bzImage holding one)", "PATH: xz payload: corrupt data", ...
 */
int kernel_load(const char *path, unsigned char **out, size_t *out_len, char err[KERNEL_ERR_MAX]);

/*
 * kernel_load's checks and unpacking on the kernel file's contents BUF
 * (LEN bytes, malloc()ed; this call takes it over), named PATH in
 * messages: the boot loader (bootloader.h) reads kernels from a guest's
 * disk rather than from dom0's files.
 */
int kernel_from_buffer(const char *path, unsigned char *buf, size_t len, unsigned char **out,
                       size_t *out_len, char err[KERNEL_ERR_MAX]);

/*
 * Decompresses one LZ4 block (the LZ4 block format: literal runs and
 * matches) from SRC into DST. Bytes written, or -1 if the block is
 * malformed, reads past SRC_LEN or would write past DST_CAP.
 */
long lz4_block_decompress(const unsigned char *src, size_t src_len, unsigned char *dst,
                          size_t dst_cap);

#endif
