/*
 * hosted_layout.h - the contract between the hosted transport (backend side,
 * transport_hosted.c) and the hosted frontend glue (hosted_dom.c), the two
 * halves of the hosted test platform that live beside it in hosted/:
 * how a "domain" that is really a host process exposes its memory, its
 * grant table and its event channels.
 *
 * A hosted domain D is a process that owns a memfd of nr_pages pages:
 *   page 0                      struct pvk_hosted_hdr
 *   pages gnt_first..+gnt_pages a Xen v1 grant table (grant_entry_v1_t[])
 *   pages data_first..nr_pages  the domain's own pages, which it may grant;
 *                               a grant's `frame` is a page index here.
 * It publishes the memfd as the symlink $PVKIT_HOSTED_DIR/dom<D>.mem
 * (pointing at /proc/<pid>/fd/<n>).  Event channel port P of domain D is a
 * pair of Unix datagram sockets: dom<D>.port<P>.fe, bound by the domain when
 * it allocates the port, and dom<D>.port<P>.be, bound by the backend that
 * binds to it.  A notification is one datagram sent to the other end's path.
 * Invariants: gnt_first == 1; gnt_first + gnt_pages == data_first;
 * data_first < nr_pages; only pages >= data_first may be granted.
 */
#ifndef PVK_HOSTED_LAYOUT_H
#define PVK_HOSTED_LAYOUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define PVK_HOSTED_MAGIC 0x3174736f686b7670ull   /* "pvkhost1" */
#define PVK_HOSTED_DEFAULT_DIR "/tmp/pvkit-hosted"

struct pvk_hosted_hdr {
    uint64_t magic;
    uint32_t domid;
    uint32_t nr_pages;
    uint32_t gnt_first;
    uint32_t gnt_pages;
    uint32_t data_first;
    uint32_t pid;
};

/* Contract: the directory all hosted domains of one test run share. */
static inline const char *pvk_hosted_dir(void)
{
    const char *d = getenv("PVKIT_HOSTED_DIR");

    return d && *d ? d : PVK_HOSTED_DEFAULT_DIR;
}

/* Contract: writes the memory symlink path of `domid`; -1 if it is too long. */
static inline int pvk_hosted_mem_path(char *buf, size_t len, unsigned domid)
{
    int n = snprintf(buf, len, "%s/dom%u.mem", pvk_hosted_dir(), domid);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Contract: writes the socket path of one end of port `port` of `domid`. */
static inline int pvk_hosted_port_path(char *buf, size_t len, unsigned domid,
                                       unsigned port, int backend_end)
{
    int n = snprintf(buf, len, "%s/dom%u.port%u.%s", pvk_hosted_dir(), domid,
                     port, backend_end ? "be" : "fe");

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

#endif
