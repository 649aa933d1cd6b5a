/*
 * libFuzzer target: the event-channel state machine (common/event_channel.c)
 * driven by sequences of operations decoded from the input, on the hosted
 * machine of fuzz_machine.c (domains 0, 1, 2; domain 0 privileged).
 *
 * The operations: every event_channel_op command (alloc_unbound for
 * oneself or, privileged, another; bind_interdomain, bind_virq, bind_ipi,
 * close, send, status, bind_vcpu, unmask, unknown ones) with ports, vCPUs,
 * VIRQs and domain ids at and beyond their limits; guest stores into its
 * shared_info's pending and mask words; the hypervisor's own ports
 * (evtchn_alloc_xen_port, as the console's) and VIRQs it raises; a
 * destroydomain piece of domain 1 or 2 and the rebuilding of a freed one.
 *
 * After every operation: the result is 0 or -errno; the audit is clean
 * (every interdomain port names a live peer that names it back, and the
 * frame counts); every port's state is a known one with its vCPU in range;
 * each VIRQ port is the one its vCPU's slot names and each slot names a
 * VIRQ port of that VIRQ; a dying domain has no open port but the
 * hypervisor's. After the input, every domain is destroyed and every frame
 * must be free again.
 */
#include <stdint.h>
#include <string.h>
#include "fuzz_machine.h"
#include "pvkit/event.h"
#include "pvkit/hypercall.h"

#define MAX_OPS 64

/* The hypervisor's end of its own ports (the console's would drain a ring). */
static void xen_handler(struct domain *d)
{
    machine_trace("d%u: the hypervisor's port handler runs", d->id);
}

static uint32_t pick_port(struct fuzz_input *in)
{
    switch (input_pick(in, 8)) {
    case 0: return NR_EVTCHN_PORTS - 1 - input_pick(in, 2);
    case 1: return NR_EVTCHN_PORTS + input_pick(in, 2);
    case 2: return input_u32(in);
    default: return input_u8(in) % 8;
    }
}

static uint32_t pick_vcpu(struct fuzz_input *in)
{
    return input_pick(in, 8) ? input_pick(in, MACHINE_VCPUS + 1) : input_u32(in);
}

static uint32_t pick_virq(struct fuzz_input *in)
{
    return input_pick(in, 8) ? input_pick(in, NR_VIRQS + 1) : input_u32(in);
}

/* The structures event_channel_op takes, as they lie in the argument window. */
union evtchn_arg {
    struct evtchn_alloc_unbound alloc_unbound;
    struct evtchn_bind_interdomain bind_interdomain;
    struct evtchn_bind_virq bind_virq;
    struct evtchn_bind_ipi bind_ipi;
    struct evtchn_status status;
    struct evtchn_bind_vcpu bind_vcpu;
    evtchn_port_t port;                 /* close, send, unmask */
    uint32_t words[3];
};

/* Writes the command's structure at the argument window and calls. */
static void op_call(struct fuzz_input *in, struct vcpu *v)
{
    union evtchn_arg *arg = machine_arg();
    uint64_t cmd = input_pick(in, 16);

    /* Every command's arguments are drawn, in this order, whichever it uses. */
    domid_t dom = machine_pick_domid(in), remote = machine_pick_domid(in);
    uint32_t port = pick_port(in), vcpu = pick_vcpu(in), virq = pick_virq(in);

    memset(arg, 0, sizeof(*arg));
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        arg->alloc_unbound = (struct evtchn_alloc_unbound){ .dom = dom, .remote_dom = remote };
        break;
    case EVTCHNOP_bind_interdomain:
        arg->bind_interdomain =
            (struct evtchn_bind_interdomain){ .remote_dom = remote, .remote_port = port };
        break;
    case EVTCHNOP_bind_virq:
        arg->bind_virq = (struct evtchn_bind_virq){ .virq = virq, .vcpu = vcpu };
        break;
    case EVTCHNOP_status:
        arg->status = (struct evtchn_status){ .dom = dom, .port = port };
        break;
    case EVTCHNOP_bind_vcpu:
        arg->bind_vcpu = (struct evtchn_bind_vcpu){ .port = port, .vcpu = vcpu };
        break;
    case EVTCHNOP_bind_ipi:
        arg->bind_ipi = (struct evtchn_bind_ipi){ .vcpu = vcpu };
        break;
    default: /* close, send, unmask and the rest: a port */
        arg->port = port;
    }
    uint64_t args[5] = { cmd < 12 ? cmd : input_u64(in),
                         input_pick(in, 16) ? MACHINE_ARG_VA : input_u64(in) };
    long rc = machine_call(v, do_event_channel_op, args, 1, false);
    machine_trace("d%u evtchn op %lu (%08x %08x %08x) -> %ld", v->domain->id,
                  (unsigned long)args[0], arg->words[0], arg->words[1], arg->words[2], rc);
}

/* The guest stores any value into a pending or mask word of its shared_info. */
static void op_guest_bits(struct fuzz_input *in, struct vcpu *v)
{
    struct shared_info *s = v->domain->shared_info;
    unsigned int w = input_u8(in) % (sizeof(s->evtchn_pending) / sizeof(s->evtchn_pending[0]));
    uint64_t val = input_pick(in, 2) ? input_u64(in) : ~0ull;

    if (input_pick(in, 2))
        __atomic_store_n(&s->evtchn_mask[w], val, __ATOMIC_SEQ_CST);
    else
        __atomic_store_n(&s->evtchn_pending[w], val, __ATOMIC_SEQ_CST);
}

/* What the hypervisor does on its own: a port of its own (as the console's), a VIRQ raised. */
static void op_hypervisor(struct fuzz_input *in, struct vcpu *v)
{
    if (input_pick(in, 2)) {
        int port = evtchn_alloc_xen_port(v->domain, xen_handler);
        machine_trace("d%u xen port -> %d", v->domain->id, port);
        if (port < -4095 || port == 0 || port >= NR_EVTCHN_PORTS)
            machine_fail("evtchn_alloc_xen_port: %d", port);
    } else {
        send_virq(v, input_pick(in, NR_VIRQS));
    }
}

/* Every port of every domain: a known state, its vCPU in range, its VIRQ slot agreeing. */
static void check_ports(void)
{
    for (domid_t id = 0; id < MACHINE_DOMAINS; id++) {
        struct domain *d = machine_domain(id);
        if (!d)
            continue;
        for (unsigned int p = 0; p < NR_EVTCHN_PORTS; p++) {
            const struct evtchn *c = &d->evtchn[p];
            if (c->state > EVTCHNSTAT_ipi || c->state == EVTCHNSTAT_pirq ||
                c->notify_vcpu >= d->nr_vcpus || (p == 0 && c->state))
                machine_fail("d%u port %u: state %u vCPU %u", id, p, c->state, c->notify_vcpu);
            if (domain_state(d) == DOMAIN_DYING && c->state && !c->xen_handler)
                machine_fail("dying d%u has port %u open (state %u)", id, p, c->state);
            if (c->state != EVTCHNSTAT_virq)
                continue;
            bool global = c->virq != VIRQ_TIMER && c->virq != VIRQ_DEBUG &&
                          c->virq != VIRQ_XENOPROF && c->virq != VIRQ_XENPMU;
            if (c->virq >= NR_VIRQS ||
                d->vcpus[global ? 0 : c->notify_vcpu].virq_port[c->virq] != p)
                machine_fail("d%u VIRQ port %u (VIRQ %u) is not its vCPU's", id, p, c->virq);
        }
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            for (unsigned int q = 0; q < NR_VIRQS; q++) {
                unsigned int p = d->vcpus[i].virq_port[q];
                if (p && (p >= NR_EVTCHN_PORTS || d->evtchn[p].state != EVTCHNSTAT_virq ||
                          d->evtchn[p].virq != q))
                    machine_fail("d%u v%u VIRQ %u names port %u, not its", id, i, q, p);
            }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { .data = data, .size = size };

    machine_reset();
    for (unsigned int n = 0; n < MAX_OPS && in.pos < in.size; n++) {
        unsigned int op = input_pick(&in, 8);
        struct vcpu *v = op < 7 ? machine_caller(&in) : NULL;
        if (op < 7 && !v)
            continue;
        if (op < 5)
            op_call(&in, v);
        else if (op == 5)
            op_guest_bits(&in, v);
        else if (op == 6)
            op_hypervisor(&in, v);
        else
            machine_op_domain(&in);
        machine_audit();
        check_ports();
    }
    machine_finish();
    return 0;
}
