/*
 * The fault recovery behind guest memory access (pvkit/guest_access.h, whose
 * range-checked copies are inline): the exception table that maps a
 * faulting guest-access instruction to its fixup.
 */
#include "pvkit/guest_access.h"

struct exception_table_entry {
    uint64_t insn, fixup;
};
extern const struct exception_table_entry __ex_table_start[], __ex_table_end[];

uint64_t search_exception_table(uint64_t rip)
{
    for (const struct exception_table_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == rip)
            return e->fixup;
    return 0;
}
