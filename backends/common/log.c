/*
 * log.c - implementation of log.h.  The rate limit for guest-caused lines
 * is a token bucket of 10 lines refilled once per second; lines beyond it
 * are counted and the count is reported with the next line that passes.
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *component = "pvkit";
static pthread_mutex_t guest_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t guest_window;
static unsigned guest_tokens, guest_dropped;

/* Contract: `name` outlives the process's logging. */
void pvk_log_init(const char *name)
{
    component = name;
}

/* Contract: prints "(component) message\n" on stderr. */
static void vlog(const char *fmt, va_list ap)
{
    char line[512];

    vsnprintf(line, sizeof(line), fmt, ap);
    fprintf(stderr, "(%s) %s\n", component, line);
}

void pvk_err(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void pvk_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

void pvk_dbg(const char *fmt, ...)
{
    va_list ap;

    if (!getenv("PVKIT_DEBUG"))
        return;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

/* Contract: returns 1 if a guest line may print now, taking a token. */
static int guest_token(unsigned *dropped)
{
    time_t now = time(NULL);
    int ok;

    pthread_mutex_lock(&guest_lock);
    if (now != guest_window) {
        guest_window = now;
        guest_tokens = 10;
    }
    ok = guest_tokens > 0;
    if (ok) {
        guest_tokens--;
        *dropped = guest_dropped;
        guest_dropped = 0;
    } else {
        guest_dropped++;
    }
    pthread_mutex_unlock(&guest_lock);
    return ok;
}

void pvk_log_guest(const char *fmt, ...)
{
    unsigned dropped = 0;
    va_list ap;

    if (!guest_token(&dropped))
        return;
    if (dropped)
        pvk_err("(%u guest messages suppressed)", dropped);
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}
