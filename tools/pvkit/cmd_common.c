/*
 * cmd_common: the connections and domain lookup every verb uses (cmd.h).
 */
#include "devices.h"
#include "cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "store.h"
#include "util.h"

int ctx_open(struct ctx *c, int needs)
{
    int rc;

    memset(c, 0, sizeof(*c));
    if ((needs & NEED_HV) && (rc = hv_open(&c->hv)))
        return err_msg("cannot open the hypervisor interface (/dev/xen/privcmd): %s",
                       strerror(-rc));
    if (needs & NEED_XS) {
        c->xs = store_open();
        if (!c->xs) {
            int e = errno;
            ctx_close(c);
            return err_msg("cannot connect to xenstored (/run/xenstored/socket): %s", strerror(e));
        }
    }
    return 0;
}

void ctx_close(struct ctx *c)
{
    store_close(c->xs);
    hv_close(c->hv);
    c->xs = NULL;
    c->hv = NULL;
}

const char *hv_strerror(int rc)
{
    if (rc == -ENOSYS)
        return "not implemented by this hypervisor";
    if (rc == -EPERM || rc == -EACCES)
        return "refused by the hypervisor (not the privileged domain, or another interface version)";
    return strerror(-rc);
}

int ctx_list(struct ctx *c, struct dominfo_list *l)
{
    int rc = hv_list_domains(c->hv, l);
    if (rc) {
        dominfo_list_free(l);
        return err_msg("cannot list domains: %s", hv_strerror(rc));
    }
    store_fill_names(c->xs, l);
    return 0;
}

int ctx_resolve(struct ctx *c, const char *arg, struct dominfo *d)
{
    struct dominfo_list l = {0};
    char err[128];
    size_t i;

    if (ctx_list(c, &l))
        return 1;
    int rc = dominfo_resolve(&l, arg, &i, err);
    if (rc == 0)
        *d = l.doms[i];
    dominfo_list_free(&l);
    return rc ? err_msg("%s", err) : 0;
}

int ctx_resolve_domu(struct ctx *c, const char *arg, struct dominfo *d, const char *dom0_fmt, ...)
{
    va_list ap;

    if (ctx_resolve(c, arg, d))
        return 1;
    if (d->domid != 0)
        return 0;
    va_start(ap, dom0_fmt);
    verr_msg(dom0_fmt, ap);
    va_end(ap);
    return 1;
}

int domain_destroy_all(struct ctx *c, uint32_t domid)
{
    /* Devices first, as libxl: the backends see their nodes go and let go
     * of the domain's grants, which hv_destroy's retries then find free. */
    if (c->xs)
        devices_remove_all(c->xs, domid);
    int rc = hv_destroy(c->hv, domid, 2000);
    if (c->xs && (rc == 0 || rc == -EBUSY || rc == -ESRCH))
        store_remove_domain(c->xs, domid);
    return rc == -ESRCH ? 0 : rc;
}
