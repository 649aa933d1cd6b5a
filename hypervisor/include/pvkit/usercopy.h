/*
 * The assembly helpers of arch/x86/usercopy.S: the only instructions that
 * touch guest memory or load guest-supplied segment selectors. Each has an
 * entry in the exception table (__ex_table), so a fault inside it resumes at
 * its fixup (found by search_exception_table, pvkit/guest_access.h) and the
 * helper reports the failure instead of the hypervisor faulting.
 */
#ifndef PVKIT_USERCOPY_H
#define PVKIT_USERCOPY_H

#include <stdint.h>

/*
 * Copies n bytes from src to dst (either may be a guest address, already
 * range-checked by the caller). Returns 0, or the number of bytes not copied
 * if an access faulted.
 */
uint64_t raw_copy(void *dst, const void *src, uint64_t n);
/*
 * Loads %gs with a guest-supplied selector. Returns 0, or -1 if the load
 * faulted, in which case the null selector is loaded instead.
 */
int load_gs_selector(uint16_t sel);
/*
 * The same for %ds, %es and %fs (the FS base is reloaded by the caller): a
 * selector whose load faults is replaced by the null selector, the others
 * are still loaded; -1 if any load faulted.
 */
int load_data_selectors(uint16_t ds, uint16_t es, uint16_t fs);

#endif
