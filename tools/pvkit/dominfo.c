/*
 * dominfo: domain lists and naming a domain by id or name (dominfo.h).
 */
#include "dominfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void dominfo_list_add(struct dominfo_list *l, const struct dominfo *d)
{
    if (l->nr == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct dominfo *n = xcalloc(cap, sizeof(*n));
        if (l->nr)
            memcpy(n, l->doms, l->nr * sizeof(*n));
        free(l->doms);
        l->doms = n;
        l->cap = cap;
    }
    l->doms[l->nr++] = *d;
}

void dominfo_list_free(struct dominfo_list *l)
{
    free(l->doms);
    *l = (struct dominfo_list){0};
}

const struct dominfo *dominfo_find(const struct dominfo_list *l, uint32_t domid)
{
    for (size_t i = 0; i < l->nr; i++)
        if (l->doms[i].domid == domid)
            return &l->doms[i];
    return NULL;
}

int dominfo_resolve(const struct dominfo_list *l, const char *arg, size_t *idx, char err[128])
{
    uint32_t id;
    size_t found = 0, at = 0;

    if (parse_domid(arg, &id)) {
        for (size_t i = 0; i < l->nr; i++)
            if (l->doms[i].domid == id) {
                *idx = i;
                return 0;
            }
        snprintf(err, 128, "%.80s: no such domain", arg);
        return -ESRCH;
    }
    for (size_t i = 0; i < l->nr; i++)
        if (strcmp(l->doms[i].name, arg) == 0) {
            if (!found)
                at = i;
            found++;
        }
    if (found == 1) {
        *idx = at;
        return 0;
    }
    if (found > 1)
        snprintf(err, 128, "%.80s: %zu domains have this name", arg, found);
    else
        snprintf(err, 128, "%.80s: no such domain", arg);
    return -ESRCH;
}
