/*
 * Hypercall handlers. Each takes the calling vCPU and the five argument
 * registers (RDI, RSI, RDX, R10, R8) and returns the value for RAX: >= 0 on
 * success, a negative XEN_E* errno on failure. Handlers are decode-then-
 * invoke: every argument is read and checked before anything changes.
 */
#ifndef PVKIT_HYPERCALL_H
#define PVKIT_HYPERCALL_H

#include "pvkit/domain.h"

typedef long hypercall_fn(struct vcpu *v, const uint64_t args[5]);

hypercall_fn do_console_io;
hypercall_fn do_sched_op;
hypercall_fn do_xen_version;

#endif
