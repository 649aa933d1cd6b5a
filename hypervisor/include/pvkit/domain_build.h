/*
 * Building a PV domain from a kernel image in memory (see common/domain_build.c).
 */
#ifndef PVKIT_DOMAIN_BUILD_H
#define PVKIT_DOMAIN_BUILD_H

#include "pvkit/domain.h"

struct domain_config {
    domid_t id;
    bool privileged;            /* the initial domain: SIF_INITDOMAIN | SIF_PRIVILEGED */
    uint64_t mem_bytes;
    unsigned int nr_vcpus;      /* 1..MAX_VCPUS_PER_DOM */
    const void *kernel;         /* ELF64 image with Xen notes */
    size_t kernel_size;
    const void *initrd;         /* NULL: none */
    size_t initrd_size;
    const char *cmdline;
};

/*
 * Creates and builds a domain ready to run. On failure returns NULL, prints
 * why, and leaves no trace (frames returned, slot freed).
 */
struct domain *domain_build(const struct domain_config *cfg);

#endif
