/*
 * A hosted machine for the libFuzzer targets of the hypervisor's state
 * machines (fuzz_grant.c, fuzz_evtchn.c): the real frame table, page-type
 * rules, grant tables, event channels, domain pool, destroy steps and audit
 * (hypervisor files compiled for the host), over MACHINE_FRAMES frames of
 * host memory mapped where the host build's DIRECTMAP_BASE says.
 *
 * What the machine supplies in place of the parts that are not hosted: guest
 * memory (one argument window per call, MACHINE_ARG_VA), the hypercall
 * budget and continuations (hypercall.c's contract), TLB flushes (counted),
 * the scheduler (wakes and kicks counted), and the log (audit mismatches
 * counted). Domains are built here with a pinned four-level tree mapping
 * MACHINE_DATA_FRAMES writable frames at virtual address 0, a shared_info
 * frame, two vCPUs and a one-frame grant table.
 *
 * Invariants: one fuzz input runs from machine_reset to machine_finish;
 * every domain it built is destroyed by machine_finish, after which every
 * frame is free again (a leak aborts). Single-threaded.
 */
#ifndef PVKIT_FUZZ_MACHINE_H
#define PVKIT_FUZZ_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include "pvkit/domain.h"

#define MACHINE_FRAMES      512
#define MACHINE_RESERVED    16      /* frames [0, 16) are the hypervisor's, never free */
#define MACHINE_DOMAINS     3       /* domain ids 0 (privileged), 1, 2 */
#define MACHINE_DATA_FRAMES 8       /* mapped at pages [0, 8) of each domain's address space */
#define MACHINE_VCPUS       2
#define MACHINE_ARG_VA      0x10000000ull   /* the argument window's guest address */
#define MACHINE_ARG_SIZE    4096

/* The bytes a fuzz input gives, read in order; 0 once used up. */
struct fuzz_input {
    const uint8_t *data;
    size_t size, pos;
};
uint8_t input_u8(struct fuzz_input *in);
uint16_t input_u16(struct fuzz_input *in);
uint32_t input_u32(struct fuzz_input *in);
uint64_t input_u64(struct fuzz_input *in);
/* One of n values (n > 0), from one byte. */
unsigned int input_pick(struct fuzz_input *in, unsigned int n);

/* Maps the machine's memory (first call) and builds domains 0, 1 and 2. */
void machine_reset(void);
/*
 * Destroys every domain (as destroydomain would, piece by piece) and checks
 * the audit is clean and every frame free again; aborts if not.
 */
void machine_finish(void);
/* Builds domain id (freed before): 0 or -errno (the pool or memory is out). */
int machine_build(domid_t id);
/* Domain id, if it exists. */
struct domain *machine_domain(domid_t id);
/* The frame a domain's tree uses at `level` (1-4), or its data frame i (level 0). */
uint64_t machine_table(domid_t id, unsigned int level, unsigned int i);

/* A vCPU of a running domain (one that may call), from the input; NULL if none. */
struct vcpu *machine_caller(struct fuzz_input *in);
/* Mostly one of the machine's domains; else one that is not, DOMID_SELF, DOMID_XEN, any. */
domid_t machine_pick_domid(struct fuzz_input *in);
/* A destroydomain piece or a few of domain 1 or 2, or the rebuilding of a freed one. */
void machine_op_domain(struct fuzz_input *in);

/* The argument window as the host sees it. */
void *machine_arg(void);
/*
 * Runs a hypercall handler for v with args, budget pieces at a time (the
 * budget hypercall_claim hands out), re-issuing continuations as the guest
 * would. Aborts if the result is neither 0 nor -errno (positive is allowed
 * only if positive_ok), or if it never finishes.
 */
long machine_call(struct vcpu *v, long (*handler)(struct vcpu *, const uint64_t[5]),
                  const uint64_t args[5], unsigned int budget, bool positive_ok);

/* Runs the audit; aborts on a mismatch. */
void machine_audit(void);
/* Prints a line of the operation trace (only with FUZZ_VERBOSE set in the environment). */
__attribute__((format(printf, 1, 2))) void machine_trace(const char *fmt, ...);
/* Aborts with a message (the fuzzer then saves the input). */
__attribute__((noreturn, format(printf, 1, 2))) void machine_fail(const char *fmt, ...);

#endif
