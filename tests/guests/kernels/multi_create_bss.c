/*
 * multi_create_bss (the initial domain alone, its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): a PT_LOAD whose bss part
 * (memsz > filesz) lies over bytes an earlier segment loaded.
 *
 * We copy our ELF, move its program headers to the end of the copy and add
 * one PT_LOAD with filesz 0 and memsz 8 at the address of an initialised
 * variable of .data (data_canary), then create a child from the copy. Xen's
 * loader (libelf's elf_load_binary, used by libxc's domain builder and by
 * Xen's own dom0 builder) loads segments in program-header order, each by
 * copying filesz bytes and zeroing memsz - filesz: the later segment's
 * zeroing wins, and the child must find data_canary == 0 (it powers off if
 * so, crashes if not).
 *
 * Found (pvkit at 6ed41a5, and its boot-time builder before it):
 * load_segment (hypervisor/common/domain_build.c) copies only filesz and
 * relies on "frames arrive zeroed", so a later segment's bss does not clear
 * what an earlier one put there: the child sees 0x1234567887654321. Harmless
 * for the hypervisor, but a loader difference a crafted kernel can see.
 * Checked on Xen 4.17 with its dom0 builder (same libelf): a kernel whose
 * ELF got the same extra PT_LOAD (program headers appended by a script,
 * booted with pvkit-run --xen) found its variable 0; the same ELF as
 * pvkit's initial domain found 0x1234567887654321.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include <elf.h>
#include "evt/evt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define IMG_MAX (256u << 10)
#define VIRT_BASE 0xffffffff80000000ull

static uint8_t img[IMG_MAX + 4096] __attribute__((aligned(4096)));
static volatile uint64_t data_canary = 0x1234567887654321ull; /* in .data */
static long evt_dom_exc = -1;


void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1) {
        guest_printf("multi_create_bss child: data_canary %lx\n", (unsigned long)data_canary);
        guest_shutdown(data_canary == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
    }
    TEST("setup");
    EXPECT_EQ(evt_init(), 0);
    uint64_t len = guest_start_info->mod_len;
    if (!evt_shared || !EXPECT(len > 4096 && len + 16 * 64 <= IMG_MAX))
        return;
    evt_dom_exc = create_watch_children();

    TEST("a bss segment over an initialised variable: the child finds it zero (libelf)");
    const uint8_t *src = (const uint8_t *)guest_start_info->mod_start;
    const Elf64_Ehdr *seh = (const Elf64_Ehdr *)src;
    uint64_t phoff = (len + 7) & ~7ull;
    unsigned int phnum = seh->e_phnum;
    memcpy(img, src, len);
    memcpy(img + phoff, src + seh->e_phoff, phnum * sizeof(Elf64_Phdr));
    Elf64_Phdr *ph = (Elf64_Phdr *)(img + phoff);
    Elf64_Phdr *load = NULL;
    for (unsigned int i = 0; i < phnum && !load; i++)
        if (ph[i].p_type == PT_LOAD)
            load = &ph[i];
    if (!EXPECT(load != NULL))
        return;
    ph[phnum] = *load;
    ph[phnum].p_vaddr = (uint64_t)&data_canary;
    ph[phnum].p_paddr = ph[phnum].p_vaddr - VIRT_BASE;
    ph[phnum].p_offset = 0;
    ph[phnum].p_filesz = 0;
    ph[phnum].p_memsz = 8;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    eh->e_phoff = phoff;
    eh->e_phnum = (uint16_t)(phnum + 1);

    struct xen_domctl op;
    create_child_op(&op, 0, 8192, "multi_create_bss role=1");
    create_args(&op)->kernel = (uint64_t)img;           /* the patched copy */
    create_args(&op)->kernel_size = phoff + (phnum + 1) * sizeof(Elf64_Phdr);
    uint64_t free0 = free_pages();
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t id = op.domain;
    EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    EXPECT_EQ(free_pages(), free0);
    evt_disable();
}
