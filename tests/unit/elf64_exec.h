/*
 * elf64_exec.h - the file header of the little-endian x86-64 ET_EXEC images
 * the unit tests build by hand (test_elf.c for the hypervisor's loader,
 * test_cli.c for the toolstack's kernel checks). Header only; needs <elf.h>.
 * Invariant: the program headers follow the file header at once.
 */
#ifndef PVKIT_TESTS_UNIT_ELF64_EXEC_H
#define PVKIT_TESTS_UNIT_ELF64_EXEC_H

#include <elf.h>
#include <stdint.h>
#include <string.h>

/* Contract: fills *eh (zeroed by the caller) as a valid ELF64 x86-64 executable header with entry point ENTRY and
 * PHNUM program headers at offset sizeof(Elf64_Ehdr); no section headers. */
static inline void elf64_exec_header(Elf64_Ehdr *eh, uint64_t entry, uint16_t phnum)
{
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = entry;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = phnum;
}

#endif
