/*
 * insn-count: a QEMU TCG plugin that counts the guest instructions executed
 * from each translated block's start address, for an exact instruction
 * profile (tools/insn-report names and compares them). Deterministic under
 * -icount: unlike sampling, what the host does meanwhile changes nothing.
 *
 *   qemu-system-x86_64 ... -plugin build/bin/insn-count.so,out=FILE
 *
 * At QEMU's exit FILE gets one line "VADDR_HEX COUNT" per block start that
 * ran (COUNT: instructions executed in blocks starting there; a block that
 * leaves early through an exception is counted whole). Blocks are told apart
 * by start address and length, so a retranslated block adds to its entry.
 *
 * Invariants: entries live in a fixed open-addressing table (never
 * resized: a block's counter address is handed to QEMU's inline add and
 * must not move); a full table stops adding new blocks and says so at exit.
 * QEMU's plugin API is declared here (the few calls used, API version 1 as
 * in QEMU 7.2), so the plugin builds without QEMU's headers.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define TABLE_SIZE (1u << 22) /* blocks; a power of two */

struct block {
    uint64_t vaddr;
    uint64_t insns;  /* its length; 0: the slot is free */
    uint64_t count;  /* instructions executed (QEMU adds insns per run) */
};

static struct block *table;
static const char *out_path = "insn-count.out";
static bool full;

/* The slot for the block at vaddr of n instructions (a free one if new); NULL if full. */
static struct block *slot_of(uint64_t vaddr, uint64_t n)
{
    uint64_t h = ((vaddr ^ (n << 48)) * 0x9E3779B97F4A7C15ull) >> 32;
    for (unsigned int probe = 0; probe < TABLE_SIZE; probe++) {
        struct block *b = &table[(h + probe) & (TABLE_SIZE - 1)];
        if (!b->insns || (b->vaddr == vaddr && b->insns == n))
            return b;
    }
    return NULL;
}

/* At translation: adds the block's length to its counter each time it runs. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    uint64_t vaddr = qemu_plugin_tb_vaddr(tb), n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    if (!n)
        return;
    struct block *b = slot_of(vaddr, n);
    if (!b) {
        full = true;
        return;
    }
    b->vaddr = vaddr;
    b->insns = n;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, n);
}

/* At QEMU's exit: writes the counts. */
static void on_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        perror(out_path);
        return;
    }
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (table[i].count)
            fprintf(f, "%016llx %llu\n", (unsigned long long)table[i].vaddr,
                    (unsigned long long)table[i].count);
    fclose(f);
    if (full)
        fprintf(stderr, "insn-count: block table full, later blocks not counted\n");
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) != 0) {
            fprintf(stderr, "insn-count: unknown argument '%s' (out=FILE)\n", argv[i]);
            return -1;
        }
        out_path = argv[i] + 4;
    }
    table = calloc(TABLE_SIZE, sizeof(*table));
    if (!table)
        return -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
