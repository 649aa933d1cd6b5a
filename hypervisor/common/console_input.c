/*
 * Console input: the serial port is polled from the timer interrupt (every
 * CONSOLE_POLL_NS) and what arrives goes to the domain that has the console
 * focus -- into its console ring (a domU) or the buffer CONSOLEIO_read reads
 * (a privileged domain, with VIRQ_CONSOLE) -- or, when the hypervisor has the
 * focus, is read as debug keys.
 *
 * Pressing Ctrl-A three times moves the focus to the next running domain and
 * then to the hypervisor, in turn (Xen's convention). Debug keys: 's'
 * statistics of every domain and the scheduler, 'h' help.
 */
#include "pvkit/audit.h"
#include "pvkit/console.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/sched.h"
#include "pvkit/serial.h"
#include <xen/io/console.h>

#define SWITCH_CHAR 0x01    /* Ctrl-A */
#define INPUT_BUF   256

/* Input focus and buffered input: hypervisor lock (console_poll runs on CPU 0 under it). */
static domid_t focus_id;
static bool focus_hypervisor;
static unsigned int switch_presses;
static char input_buf[INPUT_BUF];
static unsigned int input_head, input_tail;  /* for the privileged domain's console_io */

void console_set_focus(domid_t id)
{
    focus_id = id;
    focus_hypervisor = false;
}

size_t console_read(char *buf, size_t n)
{
    size_t got = 0;
    while (got < n && input_tail != input_head)
        buf[got++] = input_buf[input_tail++ % INPUT_BUF];
    return got;
}

/* The running domain after the current focus, or NULL if there is none. */
static struct domain *next_focus(void)
{
    struct domain *d, *first = NULL, *after = NULL;
    bool seen = focus_hypervisor;
    for_each_domain(d, slot) {
        if (d->state != DOMAIN_RUNNING || d->console_taken || d->building)
            continue; /* a taken console's input comes from dom0's daemon */
        if (!first)
            first = d;
        if (seen && !after)
            after = d;
        if (!focus_hypervisor && d->id == focus_id)
            seen = true;
    }
    return focus_hypervisor ? first : after;
}

static void switch_focus(void)
{
    struct domain *d = next_focus();
    if (d) {
        console_set_focus(d->id);
        printk(LOG_INFO, "\n(pvkit) console input now goes to d%u (Ctrl-A x3 to switch)\n", d->id);
    } else {
        focus_hypervisor = true;
        printk(LOG_INFO, "\n(pvkit) console input now goes to the hypervisor: "
               "'s' statistics, 'a' audit, 'h' help (Ctrl-A x3 to switch)\n");
    }
}

static void debug_key(char c)
{
    struct domain *d;
    switch (c) {
    case 's':
        for_each_domain(d, slot)
            domain_print_stats(d);
        schedule_print_stats();
        break;
    case 'a':
        audit_run("debug key");
        break;
    case 'h':
        printk(LOG_INFO, "(pvkit) debug keys: 's' statistics, 'a' audit, 'h' this help\n");
        break;
    default:
        break;
    }
}

static void to_ring(struct domain *d, char c)
{
    struct xencons_interface *ring = frame_page(d->console_ring_mfn);
    XENCONS_RING_IDX prod = ring->in_prod, cons = __atomic_load_n(&ring->in_cons, __ATOMIC_ACQUIRE);
    if (prod - cons >= sizeof(ring->in))
        return; /* the guest is not reading: drop */
    ring->in[MASK_XENCONS_IDX(prod, ring->in)] = c;
    __atomic_store_n(&ring->in_prod, prod + 1, __ATOMIC_RELEASE);
    evtchn_set_pending(d, d->console_port);
}

static void to_domain(char c)
{
    struct domain *d = domain_find(focus_id);
    if (!d || d->state != DOMAIN_RUNNING)
        return;
    if (d->console_ring_mfn) {
        to_ring(d, c);
        return;
    }
    if (d->console_taken)
        return; /* its input comes from dom0's console daemon now */
    if (input_head - input_tail < INPUT_BUF)
        input_buf[input_head++ % INPUT_BUF] = c;
    send_virq(&d->vcpus[0], VIRQ_CONSOLE);
}

void console_poll(void)
{
    int c;
    while ((c = serial_getc()) >= 0) {
        if (c == SWITCH_CHAR) {
            if (++switch_presses == 3) {
                switch_presses = 0;
                switch_focus();
            }
            continue;
        }
        switch_presses = 0;
        if (focus_hypervisor)
            debug_key((char)c);
        else
            to_domain((char)c);
    }
}
