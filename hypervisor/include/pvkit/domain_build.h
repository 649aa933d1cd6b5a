/*
 * Building a PV domain from a kernel image (see common/domain_build.c): at
 * boot from the boot loader's modules, at run time from the toolstack's
 * buffers (PVKIT_DOMCTL_create_pv, common/domctl.c).
 */
#ifndef PVKIT_DOMAIN_BUILD_H
#define PVKIT_DOMAIN_BUILD_H

#include "pvkit/domain.h"
#include "pvkit/elf.h"

struct domain_config {
    domid_t id;
    bool privileged;            /* the initial domain: SIF_INITDOMAIN | SIF_PRIVILEGED */
    uint64_t mem_bytes;
    unsigned int nr_vcpus;      /* 1..MAX_VCPUS_PER_DOM */
    const struct image_src *kernel; /* ELF64 image with Xen notes */
    const struct image_src *initrd; /* NULL: none */
    const char *cmdline;        /* in hypervisor memory; NULL: empty */
    bool paused;                /* start with one pause (domctl unpausedomain runs it) */
    bool store_channel;         /* give a domU an unbound store port, remote domain 0 */
};

/*
 * Creates and builds a domain ready to run (or paused, if asked), and
 * returns it in *out. On failure returns -errno (-XEN_EINVAL kernel or
 * config refused, -XEN_ENOMEM, -XEN_EFAULT image unreadable, -XEN_EEXIST id
 * in use, -XEN_ENOSPC no slot), prints why, and leaves no trace (frames
 * returned, slot freed).
 */
int domain_build(const struct domain_config *cfg, struct domain **out);

#endif
