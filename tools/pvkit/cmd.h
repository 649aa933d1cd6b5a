/*
 * cmd: what the verbs share (a connection to the hypervisor and to the
 * store, finding the domain an argument names) and the verbs themselves,
 * one group per file: cmd_create.c (create, console), cmd_life.c
 * (destroy, shutdown, reboot, pause, unpause, mem-set), cmd_show.c (list,
 * vcpu-list, info, uptime, dmesg, stats), cmd_top.c (top), cmd_dev.c
 * (block-attach, block-detach, block-list, network-attach,
 * network-detach, network-list). main.c maps verb names (args.c) to them.
 *
 * A verb returns its exit status: 0, or 1 after printing one line.
 */
#ifndef PVKIT_CMD_H
#define PVKIT_CMD_H

#include "args.h"
#include "dominfo.h"
#include "hv.h"

struct xs_handle;

struct ctx {
    struct hv *hv;
    struct xs_handle *xs;   /* NULL when the verb does not need the store */
};

enum { NEED_HV = 1, NEED_XS = 2 };

/* Opens what NEEDS says. 0, or 1 after one line ("cannot open privcmd: ...",
 * "cannot connect to xenstored: ..."). */
int ctx_open(struct ctx *c, int needs);
void ctx_close(struct ctx *c);

/* All domains, with names (from the store if open). 0 or 1 after one line. */
int ctx_list(struct ctx *c, struct dominfo_list *l);

/* The domain ARG names, into *D. 0 or 1 after one line ("ARG: no such domain"). */
int ctx_resolve(struct ctx *c, const char *arg, struct dominfo *d);

/* As ctx_resolve, for a verb that cannot act on domain 0: ARG naming it is
 * refused with DOM0_FMT's line. 0, or 1 after one line. */
int __attribute__((format(printf, 4, 5))) ctx_resolve_domu(struct ctx *c, const char *arg,
                                                           struct dominfo *d,
                                                           const char *dom0_fmt, ...);

/*
 * Destroys DOMID and removes its store entries (the domain first, so a
 * running guest never sees its tree vanish). 0, or -errno; when it stays
 * dying (frames still mapped by another domain) -EBUSY, with the tree gone.
 */
int domain_destroy_all(struct ctx *c, uint32_t domid);

/* Describes a hypervisor error of CMD, e.g. -ENOSYS on an older hypervisor. */
const char *hv_strerror(int rc);

int cmd_create(struct ctx *c, const struct args *a);
int cmd_console(struct ctx *c, const struct args *a);
int cmd_destroy(struct ctx *c, const struct args *a);
int cmd_shutdown(struct ctx *c, const struct args *a);
int cmd_reboot(struct ctx *c, const struct args *a);
int cmd_pause(struct ctx *c, const struct args *a);
int cmd_unpause(struct ctx *c, const struct args *a);
int cmd_mem_set(struct ctx *c, const struct args *a);
int cmd_list(struct ctx *c, const struct args *a);
int cmd_vcpu_list(struct ctx *c, const struct args *a);
int cmd_info(struct ctx *c, const struct args *a);
int cmd_uptime(struct ctx *c, const struct args *a);
int cmd_dmesg(struct ctx *c, const struct args *a);
int cmd_stats(struct ctx *c, const struct args *a);
int cmd_top(struct ctx *c, const struct args *a);
int cmd_block_attach(struct ctx *c, const struct args *a);
int cmd_block_detach(struct ctx *c, const struct args *a);
int cmd_block_list(struct ctx *c, const struct args *a);
int cmd_network_attach(struct ctx *c, const struct args *a);
int cmd_network_detach(struct ctx *c, const struct args *a);
int cmd_network_list(struct ctx *c, const struct args *a);

#endif
