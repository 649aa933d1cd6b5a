/*
 * Building a PV domain from a kernel image (see common/domain_build.c): at
 * boot from the boot loader's modules, at run time from the toolstack's
 * buffers (PVKIT_DOMCTL_create_pv, common/domctl.c). A PVH domain (boot
 * time only, for now) has its own builder, common/pvh_build.c.
 */
#ifndef PVKIT_DOMAIN_BUILD_H
#define PVKIT_DOMAIN_BUILD_H

#include "pvkit/domain.h"
#include "pvkit/elf.h"

struct domain_config {
    domid_t id;
    enum domain_type type;      /* DOMAIN_PV (the zero default) or DOMAIN_PVH */
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

/*
 * domain_build for cfg->type DOMAIN_PVH (common/pvh_build.c), in one piece:
 * refused with one line on the console (-XEN_ENODEV) when the CPU has no
 * SVM with nested paging, and for a privileged domain, several vCPUs or a
 * kernel without XEN_ELFNOTE_PHYS32_ENTRY (-XEN_EINVAL).
 */
int pvh_domain_build(const struct domain_config *cfg, struct domain **out);

/*
 * Gives a new domain its shared_info frame (common/domain_build.c), held
 * writable by the hypervisor for the domain's life, every vCPU's events
 * masked, wall-clock time set. 0 or -XEN_ENOMEM.
 */
int domain_setup_shared_info(struct domain *d);

/*
 * The same build in pieces, for a caller that must let other vCPUs run
 * (domctl create_pv). One build at a time: -XEN_EBUSY while another is
 * pending. _start checks cfg (copied in, with what it points at), creates
 * the domain (d->building set: domctl refuses to run it meanwhile) and
 * returns 0 or -errno like domain_build. Each _step does up to `frames`
 * pages of work (allocating a frame, writing a page of the kernel or
 * initrd) and returns -XEN_ERESTART while more remain; the last one builds
 * the page tables, start_info and vCPU 0 and returns 0 with *out, or
 * -errno with the domain freed. _pending names the domain under construction (or
 * NULL); _abandon frees it and ends the build.
 */
int domain_build_start(const struct domain_config *cfg);
int domain_build_step(uint64_t frames, struct domain **out);
struct domain *domain_build_pending(void);
void domain_build_abandon(void);

#endif
