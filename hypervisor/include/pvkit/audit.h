/*
 * The frame-table audit (common/audit.c): recounts the references every
 * frame has from page tables, pins, vCPUs, the hypervisor's holds and grant
 * mappings and compares them with the frame table; checks that event
 * channels and grant mappings name only live domains, and the free list.
 * Run under the hypervisor lock, between hypercalls.
 */
#ifndef PVKIT_AUDIT_H
#define PVKIT_AUDIT_H

#include "pvkit/lib.h"
#include "pvkit/xenabi.h"

/*
 * Audits the whole machine now; prints each mismatch ("(pvkit) audit
 * mismatch: ...") and a summary line naming `why`. Returns how many
 * mismatches it found (0: consistent). Changes nothing else.
 */
unsigned int audit_run(const char *why);
/* Boot only: whether audit_domain_freed and audit_machine_off audit (audit=on-death). */
void audit_set_on_death(bool on);
/* Called when domain id has been freed: audits if audit=on-death. */
void audit_domain_freed(domid_t id);
/*
 * Called when the machine powers off because no domain is left running
 * (the last ones shut down or crashed but were never freed): audits if
 * audit=on-death, so a run whose domains all end this way is audited too.
 */
void audit_machine_off(void);

#endif
