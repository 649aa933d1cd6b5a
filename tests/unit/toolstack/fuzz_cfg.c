/*
 * libFuzzer target for the toolstack's xl.cfg reader: the input is a
 * configuration file, parsed by cfg_parse (tools/pvkit/cfg.c) and, if it
 * parses, read as a domain by domcfg_from_cfg (domcfg.c); then parsed a
 * second time on top of the first (as a later -f file or `KEY=VALUE`
 * arguments are), which must keep the same keys whether it succeeds or not. A crash, a sanitizer report, a leak or a timeout is a
 * bug, and so is breaking the reader's contract: results are 0, -EINVAL or
 * -ENOMEM; every error is one non-empty line, a syntax error's starting
 * with the source name; a failed first parse leaves no setting;
 * a domain read is within its limits (1 <= vcpus <= maxvcpus). Seeds:
 * tests/unit/toolstack/seeds/cfg.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "domcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_cfg: %s (error \"%s\")\n", what, err);
    abort();
}

/* An error message: one non-empty line, beginning with `prefix`. */
static void check_error(int rc, const char *err, const char *prefix)
{
    if (rc != -EINVAL && rc != -ENOMEM)
        fail("result neither 0, -EINVAL nor -ENOMEM", err);
    if (!memchr(err, '\0', CFG_ERR_MAX) || !err[0] || strchr(err, '\n') ||
        strncmp(err, prefix, strlen(prefix)))
        fail("error message not one line beginning with the source", err);
}

static void ignore_warning(void *arg, const char *msg)
{
    (void)arg;
    if (!msg[0] || strchr(msg, '\n'))
        fail("warning not one line", msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CFG_ERR_MAX] = "";
    struct cfg c;
    struct domcfg dc;

    cfg_init(&c);
    int rc = cfg_parse(&c, (const char *)data, size, "f.cfg", err);
    if (rc) {
        check_error(rc, err, rc == -EINVAL ? "f.cfg:" : "");
        if (c.nr_settings)
            fail("a failed parse left settings", err);
        cfg_free(&c);
        return 0;
    }
    memset(&dc, 0, sizeof(dc));
    rc = domcfg_from_cfg(&c, &dc, ignore_warning, NULL, err);
    if (rc)
        check_error(rc, err, "");
    else if (dc.vcpus < 1 || dc.maxvcpus < dc.vcpus)
        fail("vcpus out of its limits", "");
    domcfg_free(&dc);

    /* Again on top (`+=' may now refuse to add, say): the same keys, or unchanged. */
    size_t before = c.nr_settings;
    rc = cfg_parse(&c, (const char *)data, size, "g.cfg", err);
    if (rc)
        check_error(rc, err, rc == -EINVAL ? "g.cfg:" : "");
    if (c.nr_settings != before)
        fail("the same text twice changed the number of settings", err);
    cfg_free(&c);
    return 0;
}
