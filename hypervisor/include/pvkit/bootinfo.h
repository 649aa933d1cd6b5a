/*
 * What the boot loader told us, in one loader-independent form: the
 * hypervisor command line, RAM ranges, modules and the ACPI RSDP copy
 * (multiboot1 from QEMU's -kernel, multiboot2 from GRUB), plus the parsed
 * hypervisor options.
 *
 * Module command lines are stored with the loader's leading file name
 * removed, as Xen does: QEMU passes "<file> <args>", and GRUB users write a
 * placeholder first word.
 */
#ifndef PVKIT_BOOTINFO_H
#define PVKIT_BOOTINFO_H

#include "pvkit/console.h"
#include "pvkit/lib.h"

#define MULTIBOOT1_LOADER_MAGIC 0x2BADB002
#define MULTIBOOT2_LOADER_MAGIC 0x36D76289
#define BOOT_CMDLINE_MAX        1024
#define BOOT_MAX_RAM_RANGES     64
#define BOOT_MAX_MODULES        16
#define BOOT_RSDP_LEN           36      /* an ACPI 2.0+ RSDP */
#define BOOT_MAX_MAP_ENTRIES    128

struct mem_range {
    uint64_t start, end; /* [start, end), bytes */
};

struct map_entry {       /* one entry of the firmware's memory map, as given */
    uint64_t addr, len;
    uint32_t type;       /* 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable (e820) */
};

struct boot_module {
    uint64_t start, end; /* physical, [start, end) */
    char cmdline[BOOT_CMDLINE_MAX];
};

struct boot_info {
    const char *loader;  /* "multiboot1" or "multiboot2" */
    char cmdline[BOOT_CMDLINE_MAX];
    size_t nr_ram;
    struct mem_range ram[BOOT_MAX_RAM_RANGES];
    size_t nr_map;       /* the whole memory map (first BOOT_MAX_MAP_ENTRIES entries) */
    struct map_entry map[BOOT_MAX_MAP_ENTRIES];
    size_t nr_modules;
    struct boot_module modules[BOOT_MAX_MODULES];
    /*
     * The ACPI RSDP from the multiboot2 information: the address of the
     * loader's copy (the payload of the ACPI new-RSDP tag, type 15, else of
     * the old-RSDP tag, type 14), 0 if the loader gave none (always for
     * multiboot1); and a copy of its first bytes (zero-filled beyond a v1
     * RSDP). A tag too short for its whole RSDP (36 / 20 bytes) is ignored;
     * the RSDP itself is not checked here. The loader's copy lies in RAM the
     * hypervisor hands out (zeroed) to domains; the copy here lasts.
     */
    uint64_t rsdp_phys;
    uint8_t rsdp[BOOT_RSDP_LEN];
};

/* What the loader told the hypervisor (common/main.c; set once at boot). */
const struct boot_info *boot_information(void);
/* The hypervisor's command line without the image name (common/main.c; set once at boot). */
extern char hypervisor_cmdline[BOOT_CMDLINE_MAX];

/* Translates a physical address of loader data to a pointer we can read. */
typedef const void *(*phys_reader_fn)(uint64_t phys);

/*
 * Fills *out from a multiboot1 or multiboot2 information structure at
 * info_phys, according to magic. Returns 0, or -EINVAL for an unknown magic
 * or a structure without a memory map. Ranges beyond the table sizes are
 * dropped (and counted in the return of the caller's checks, not silently:
 * see boot_info_dropped).
 */
int multiboot_parse(uint32_t magic, uint64_t info_phys, phys_reader_fn read,
                    struct boot_info *out);

#define MAX_BOOT_DOMUS 8

/* An extra domain built at boot from boot modules (domU=K[+I][,mem=S][,vcpus=N][,type=T]). */
struct domu_spec {
    unsigned int kernel_module;     /* 1-based module index */
    unsigned int initrd_module;     /* 0: none */
    uint64_t mem_bytes;
    unsigned int vcpus;
    bool pvh;                       /* type=pvh (default type=pv) */
};

struct hv_options {
    uint16_t serial_port;      /* 0: no serial console */
    enum log_level loglvl;
    uint64_t dom0_mem;         /* bytes; 0: the default */
    unsigned int dom0_vcpus;   /* 0: the default */
    unsigned int max_cpus;     /* maxcpus=: physical CPUs to use; 0: all (up to MAX_CPUS) */
    bool initial_domain_unprivileged; /* initial_domain=domU: build module 1 as domain 1 */
    bool audit_on_death;       /* audit=on-death: audit the frame table when a domain is freed */
    bool initial_domain_pvh;   /* initial_domain_type=pvh (default pv) */
    unsigned int nr_domus;
    struct domu_spec domus[MAX_BOOT_DOMUS];
};

/*
 * Parses the hypervisor command line (space-separated key=value words, after
 * the loader's file name has been removed). Unknown or malformed words are
 * reported through bad(word, len) and otherwise ignored; returns how many there
 * were. Options not on the line keep the values *opt had on entry.
 */
int cmdline_parse(const char *cmdline, struct hv_options *opt,
                  void (*bad)(const char *word, size_t len));

/* Returns the command line without its first word (the loader's file name). */
const char *cmdline_skip_first_word(const char *cmdline);

/* Parses "<n>[KMGT]" (no unit means KiB, as Xen). Returns false if malformed. */
bool parse_size(const char **s, uint64_t *bytes);

#endif
