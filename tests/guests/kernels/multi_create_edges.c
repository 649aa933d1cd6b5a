/*
 * multi_create_edges (the initial domain alone, its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): run-time domain creation
 * at its edges. After each step the machine's free pages must be what they
 * were before it (nothing leaked), and a refused create leaves no domain.
 *
 * (A bss segment laid over initialised data is multi_create_bss's.)
 * Crafted images (our ELF copied, its program headers moved to the end of
 * the copy so that one can be added):
 *   - a PT_LOAD duplicating the text segment (overlap): built, and the child
 *     runs to its poweroff;
 *   - an empty PT_LOAD (memsz 0) 512 MiB away: ignored, built;
 *   - a PT_LOAD of memsz 2 GiB, or whose p_paddr + p_memsz wraps: -EINVAL;
 *   - the HYPERCALL_PAGE note just past the image (where the boot layout's
 *     tables follow) or unaligned, the ENTRY note outside the image, the
 *     program headers unaligned: -EINVAL.
 * Special buffers: the kernel in our own L4 page table (read-only, not an
 * ELF): -EINVAL; our page tables or our shared_info page as the initrd:
 * built, and our own page tables still work afterwards; a kernel size of
 * 2^63: -EFAULT; an initrd of 1.5 GiB: -EINVAL before anything is read; a
 * command line that runs into an unmapped page without a NUL: -EFAULT; 4
 * KiB of memory: refused.
 * Domains: 8 vCPUs, vCPUs 1-7 down until the child brings them up (it does,
 * then powers off); getvcpuinfo of vCPU 8 and 0xffffffff: -EINVAL; a child
 * paused twice more, never run, destroyed; unpausing a paused child twice:
 * the second -EINVAL; get_stats with size 0, 0xffffffff, the op itself as
 * the buffer, a hypervisor address; max_mem 3 pages above the child's
 * memory: the child's increase_reservation of 100 gets 3.
 * Dying ids: we map the child's store page (grant reference 1, seeded for
 * domain 0), destroy it: it stays, dying. A create asking for its id:
 * -EEXIST; the next free id skips it; pause: -EINVAL; stats, vCPU info,
 * max_mem answer. Unmapped and destroyed again, it goes, and its id can be
 * had again.
 * The id rover: 32750 creates that fail after an id was picked (a read-only
 * op: -EFAULT) take the rover once round (every free id once); the next
 * create gets the id after the last one given, never 0 nor one in use.
 * Slots: filled, half freed, filled again, three times: ids unique, all
 * destroyed, no page lost.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include <elf.h>
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"
#include "create.h"
#include <xen/grant_table.h>
#include <xen/elfnote.h>

#define MS 1000000ULL
#define CHILD_KB 8192
#define IMG_MAX (256u << 10)
#define VIRT_BASE 0xffffffff80000000ull

static uint8_t img[IMG_MAX + 4096] __attribute__((aligned(4096)));
static char pool[8][4096] __attribute__((aligned(4096)));
static char edge[2][4096] __attribute__((aligned(4096)));
static volatile int ap_ready[EVT_MAX_CPUS];
static long evt_dom_exc = -1;
static uint64_t img_len, phoff;
static unsigned int phnum;

/* ---- the children ------------------------------------------------------- */

void evt_ap_main(unsigned long cpu)
{
    __atomic_store_n(&ap_ready[cpu], 1, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

static void child(long role)
{
    int ok = 1;
    if (role == 2) { /* bring up vCPUs 1-7 */
        ok &= evt_init() == 0;
        for (unsigned int cpu = 1; ok && cpu < 8; cpu++) {
            ok &= hyp_vcpu_op(VCPUOP_is_up, cpu, NULL) == 0;
            ok &= evt_start_ap(cpu, &ap_ready[cpu]) == 0;
        }
        ok &= hyp_vcpu_op(VCPUOP_is_up, 8, NULL) < 0;
    } else if (role == 3) { /* grow as far as max_mem lets us */
        domid_t self = DOMID_SELF;
        long cur = hyp_memory_op(XENMEM_current_reservation, &self);
        long max = hyp_memory_op(XENMEM_maximum_reservation, &self);
        static unsigned long ext[100];
        struct xen_memory_reservation r = { .nr_extents = 100, .domid = DOMID_SELF };
        set_xen_guest_handle(r.extent_start, ext);
        long got = hyp_memory_op(XENMEM_increase_reservation, &r);
        guest_printf("multi_create_edges child: %ld pages, max %ld, increase got %ld\n", cur,
                     max, got);
        ok &= got == max - cur && got == 3;
        ok &= hyp_memory_op(XENMEM_current_reservation, &self) == max;
    }
    guest_printf("multi_create_edges child role %ld: %s\n", role, ok ? "ok" : "FAILED");
    guest_shutdown(ok ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

/* ---- the parent's helpers ----------------------------------------------- */

static void create_op(struct xen_domctl *op, domid_t id, const char *cmd)
{
    create_child_op(op, id, CHILD_KB, cmd);
}


static long destroy(domid_t id)
{
    struct xen_domctl op;
    return dctl(XEN_DOMCTL_destroydomain, id, &op);
}

/* The copy of our image with its program headers at the end, room for one more. */
static void fresh_image(void)
{
    const uint8_t *src = (const uint8_t *)guest_start_info->mod_start;
    const Elf64_Ehdr *seh = (const Elf64_Ehdr *)src;
    memcpy(img, src, img_len);
    phoff = (img_len + 7) & ~7ull;
    phnum = seh->e_phnum;
    memcpy(img + phoff, src + seh->e_phoff, phnum * sizeof(Elf64_Phdr));
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    eh->e_phoff = phoff;
}

static Elf64_Phdr *phdr(unsigned int i)
{
    return (Elf64_Phdr *)(img + phoff) + i;
}

/* Appends a program header; returns it. */
static Elf64_Phdr *add_phdr(const Elf64_Phdr *ph)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    *phdr(phnum) = *ph;
    eh->e_phnum = (uint16_t)++phnum;
    return phdr(phnum - 1);
}

static Elf64_Phdr *first_of(uint32_t type)
{
    for (unsigned int i = 0; i < phnum; i++)
        if (phdr(i)->p_type == type)
            return phdr(i);
    return NULL;
}

/* The descriptor of Xen note `type` in the copy, or NULL. */
static uint64_t *xen_note(uint32_t type)
{
    const Elf64_Phdr *n = first_of(PT_NOTE);
    uint64_t off = n->p_offset, end = n->p_offset + n->p_filesz;
    while (off + 12 <= end) {
        uint32_t *h = (uint32_t *)(img + off);
        uint64_t name = (h[0] + 3) & ~3u, desc = (h[1] + 3) & ~3u;
        if (h[0] == 4 && !guest_memcmp(img + off + 12, "Xen", 4) && h[2] == type)
            return (uint64_t *)(img + off + 12 + name);
        off += 12 + name + desc;
    }
    return NULL;
}

/* Creates from the crafted copy with command line cmd: the result; a domain built is left. */
static long create_crafted(struct xen_domctl *op, const char *cmd)
{
    create_op(op, 0, cmd);
    create_args(op)->kernel = (uint64_t)img;
    create_args(op)->kernel_size = phoff + phnum * sizeof(Elf64_Phdr);
    return hyp_domctl(op);
}

/* A crafted create that must fail with want and leave nothing. */
static void crafted_refused(long want, uint64_t free0, const char *what)
{
    struct xen_domctl op;
    long rc = create_crafted(&op, "multi_create_edges role=1");
    if (rc != want)
        guest_printf("     %s: got %ld\n", what, rc);
    EXPECT_EQ(rc, want);
    if (rc == 0)
        destroy(op.domain);
    EXPECT_EQ(free_pages(), free0);
}

/* A crafted create that must build, run to poweroff, and be destroyed. */
static void crafted_runs(const char *cmd, uint64_t free0, const char *what)
{
    struct xen_domctl op;
    long rc = create_crafted(&op, cmd);
    if (rc != 0)
        guest_printf("     %s: got %ld\n", what, rc);
    if (!EXPECT_EQ(rc, 0))
        return;
    domid_t id = op.domain;
    int reason = create_run_to_shutdown(evt_dom_exc, id);
    if (reason != SHUTDOWN_poweroff)
        guest_printf("     %s: child ended with %d\n", what, reason);
    EXPECT_EQ(reason, SHUTDOWN_poweroff);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(free_pages(), free0);
}

/* ---- the parent's tests ------------------------------------------------- */

static void crafted_images(void)
{
    uint64_t free0 = free_pages();
    Elf64_Phdr ph;

    TEST("crafted: a PT_LOAD duplicating the text (overlap): built, runs");
    fresh_image();
    add_phdr(first_of(PT_LOAD));
    crafted_runs("multi_create_edges role=1", free0, "overlap");

    TEST("crafted: an empty PT_LOAD 512 MiB away: ignored");
    fresh_image();
    ph = *first_of(PT_LOAD);
    ph.p_paddr += 512ull << 20;
    ph.p_vaddr += 512ull << 20;
    ph.p_filesz = ph.p_memsz = 0;
    add_phdr(&ph);
    crafted_runs("multi_create_edges role=1", free0, "empty segment");

    TEST("crafted: memsz 2 GiB, p_paddr + p_memsz wrapping, filesz > memsz: -EINVAL");
    fresh_image();
    ph = *first_of(PT_LOAD);
    ph.p_filesz = 0;
    ph.p_memsz = 2ull << 30;
    add_phdr(&ph);
    crafted_refused(-XEN_EINVAL, free0, "2 GiB segment");
    fresh_image();
    ph = *first_of(PT_LOAD);
    ph.p_filesz = 0;
    ph.p_memsz = ~0ull - ph.p_paddr + 2;
    add_phdr(&ph);
    crafted_refused(-XEN_EINVAL, free0, "wrapping segment");
    fresh_image();
    first_of(PT_LOAD)->p_memsz = first_of(PT_LOAD)->p_filesz - 1;
    crafted_refused(-XEN_EINVAL, free0, "filesz > memsz");

    TEST("crafted: HYPERCALL_PAGE past the image or unaligned, ENTRY outside, phdrs unaligned");
    fresh_image();
    uint64_t pend = 0;
    for (unsigned int i = 0; i < phnum; i++)
        if (phdr(i)->p_type == PT_LOAD && phdr(i)->p_paddr + phdr(i)->p_memsz > pend)
            pend = phdr(i)->p_paddr + phdr(i)->p_memsz;
    uint64_t *hc = xen_note(XEN_ELFNOTE_ENTRY); /* made a HYPERCALL_PAGE note */
    if (EXPECT(hc != NULL)) {
        ((uint32_t *)hc)[-2] = XEN_ELFNOTE_HYPERCALL_PAGE; /* the type, before the name "Xen" */
        *hc = VIRT_BASE + ((pend + 4095) & ~4095ull);
        crafted_refused(-XEN_EINVAL, free0, "hypercall page past the image");
        *hc = VIRT_BASE + 0x100800;
        crafted_refused(-XEN_EINVAL, free0, "hypercall page unaligned");
    }
    fresh_image();
    uint64_t *entry = xen_note(XEN_ELFNOTE_ENTRY);
    if (EXPECT(entry != NULL)) {
        *entry = VIRT_BASE + ((pend + 4095) & ~4095ull) + 0x10000;
        crafted_refused(-XEN_EINVAL, free0, "entry outside");
    }
    fresh_image();
    ((Elf64_Ehdr *)img)->e_phoff = phoff + 4;
    crafted_refused(-XEN_EINVAL, free0, "phdrs unaligned");
}

/* Like each group here: an op, the free pages before, its result and the pages after. */
static void special_buffers(void)
{
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    long rc;

    TEST("buffers: the kernel in our L4 table: -EINVAL");
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->kernel = guest_start_info->pt_base;
    create_args(&op)->kernel_size = 4096;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
    EXPECT_EQ(free_pages(), free0);

    TEST("buffers: our page tables, then our shared_info, as the initrd: built");
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->initrd = guest_start_info->pt_base;
    create_args(&op)->initrd_size = guest_start_info->nr_pt_frames * 4096;
    rc = hyp_domctl(&op);
    EXPECT_EQ(rc, 0);
    if (rc == 0)
        EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, op.domain), SHUTDOWN_poweroff);
    if (rc == 0)
        EXPECT_EQ(destroy(op.domain), 0);
    shared_info_t *sh = pt_map_shared_info();
    EXPECT(sh != NULL);
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->initrd = (uint64_t)sh;
    create_args(&op)->initrd_size = 4096;
    rc = hyp_domctl(&op);
    EXPECT_EQ(rc, 0);
    if (rc == 0)
        EXPECT_EQ(destroy(op.domain), 0);
    EXPECT_EQ(free_pages(), free0);
    EXPECT_EQ(pt_map_ro(pool[0]), 0); /* our own tables still work */
    EXPECT_EQ(pt_map_rw(pool[0]), 0);
    pool[0][0] = 1;

    TEST("buffers: kernel size 2^63 -EFAULT; initrd 1.5 GiB -EINVAL; 4 KiB of memory refused");
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->kernel_size = 1ull << 63;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EFAULT);
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->initrd = 0x0000600000000000ull;
    create_args(&op)->initrd_size = 3ull << 29;
    EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
    create_op(&op, 0, "multi_create_edges role=1");
    create_args(&op)->mem_kb = 4;
    rc = hyp_domctl(&op);
    EXPECT(rc == -XEN_EINVAL || rc == -XEN_ENOMEM);
    EXPECT_EQ(free_pages(), free0);

    TEST("buffers: a command line running into an unmapped page: -EFAULT");
    uint64_t pte = *pt_entry((unsigned long)edge[1], 1);
    memset(edge[0], 'y', 4096);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)edge[1], 0, UVMF_INVLPG), 0);
    create_op(&op, 0, edge[0] + 4000);
    EXPECT_EQ(hyp_domctl(&op), -XEN_EFAULT);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)edge[1], pte, UVMF_INVLPG), 0);
    EXPECT_EQ(free_pages(), free0);
}

static void domains(void)
{
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    long rc;

    TEST("8 vCPUs: 1-7 down until the child brings them up");
    create_op(&op, 0, "multi_create_edges role=2");
    create_args(&op)->max_vcpus = 8;
    rc = hyp_domctl(&op);
    EXPECT_EQ(rc, 0);
    domid_t id = op.domain;
    if (rc == 0) {
        EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
        EXPECT_EQ(op.u.getdomaininfo.max_vcpu_id, 7);
        EXPECT_EQ(op.u.getdomaininfo.nr_online_vcpus, 1);
        for (unsigned int v = 0; v < 8; v++) {
            op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = id,
                                      .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
            op.u.getvcpuinfo.vcpu = v;
            EXPECT_EQ(hyp_domctl(&op), 0);
            EXPECT_EQ(op.u.getvcpuinfo.online, v == 0);
        }
        op.u.getvcpuinfo.vcpu = 8;
        EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
        op.u.getvcpuinfo.vcpu = 0xffffffffu;
        EXPECT_EQ(hyp_domctl(&op), -XEN_EINVAL);
        EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
        EXPECT_EQ(destroy(id), 0);
    }
    EXPECT_EQ(free_pages(), free0);

    TEST("never run: paused twice more, then destroyed; unpause twice: the second -EINVAL");
    create_op(&op, 0, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    id = op.domain;
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, id, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, id, &op), 0);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id, 0);
    create_op(&op, 0, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    id = op.domain;
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, id, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, id, &op), -XEN_EINVAL);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(free_pages(), free0);

    TEST("get_stats: size 0, 0xffffffff, the op itself as the buffer, a hypervisor address");
    create_op(&op, 0, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    id = op.domain;
    struct xen_domctl *sop = (struct xen_domctl *)pool[1];
    struct pvkit_domctl_get_stats *g = (struct pvkit_domctl_get_stats *)&sop->u;
    *sop = (struct xen_domctl){ .cmd = PVKIT_DOMCTL_get_stats, .domain = id,
                                .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    g->buffer = (uint64_t)pool[2];
    g->size = 0;
    EXPECT_EQ(hyp_domctl(sop), 0);
    EXPECT_EQ(g->size, 0);
    g->size = 0xffffffffu;
    EXPECT_EQ(hyp_domctl(sop), 0);
    EXPECT_EQ(g->size, sizeof(struct pvkit_domain_stats));
    g->buffer = (uint64_t)sop;
    g->size = 4096;
    EXPECT_EQ(hyp_domctl(sop), 0);
    EXPECT_EQ(sop->cmd, PVKIT_DOMCTL_get_stats); /* the answer written over the stats */
    g = (struct pvkit_domctl_get_stats *)&sop->u;
    g->buffer = 0xffff830000000000ull;
    g->size = 8;
    EXPECT_EQ(hyp_domctl(sop), -XEN_EFAULT);
    g->size = 0;
    rc = hyp_domctl(sop);
    EXPECT(rc == 0 || rc == -XEN_EFAULT);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(free_pages(), free0);

    TEST("max_mem 3 pages above: the child's increase_reservation of 100 gets 3");
    create_op(&op, 0, "multi_create_edges role=3");
    EXPECT_EQ(hyp_domctl(&op), 0);
    id = op.domain;
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_max_mem, .domain = id,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.max_mem.max_memkb = CHILD_KB + 12;
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
    EXPECT_EQ(op.u.getdomaininfo.tot_pages, CHILD_KB / 4 + 3);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(free_pages(), free0);
}

/* Maps child id's store page (grant reference 1, seeded for domain 0) at pool[3]. */
static int map_store(domid_t id, grant_handle_t *handle)
{
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[3],
                                        .flags = GNTMAP_host_map, .ref = GNTTAB_RESERVED_XENSTORE,
                                        .dom = id };
    if (hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1) || map.status != GNTST_okay)
        return -1;
    *handle = map.handle;
    return 0;
}

static int unmap_store(grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)pool[3], .handle = handle };
    return hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1) || un.status != GNTST_okay ? -1 : 0;
}

static void dying_ids(void)
{
    struct xen_domctl op;
    grant_handle_t h = 0;

    TEST("warm-up: our first grant mapping takes a maptrack page for good (as Xen)");
    create_op(&op, 0, "multi_create_edges role=1");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    EXPECT_EQ(map_store(op.domain, &h), 0);
    EXPECT_EQ(unmap_store(h), 0);
    EXPECT_EQ(destroy(op.domain), 0);
    uint64_t free0 = free_pages();

    TEST("a dying domain keeps its id: -EEXIST, skipped, refused, then freed and reusable");
    create_op(&op, 0, "multi_create_edges role=1");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t id = op.domain;
    EXPECT_EQ(map_store(id, &h), 0);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op), 0);
    EXPECT_EQ(op.domain, id);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_dying);
    create_op(&op, id, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), -XEN_EEXIST);
    create_op(&op, 0, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    domid_t other = op.domain;
    EXPECT(other != id && other != 0);
    EXPECT_EQ(destroy(other), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, id, &op), -XEN_EINVAL);
    long un = dctl(XEN_DOMCTL_unpausedomain, id, &op);
    guest_printf("     unpause of the dying domain: %ld\n", un);
    struct xen_domctl *sop = (struct xen_domctl *)pool[1];
    *sop = (struct xen_domctl){ .cmd = PVKIT_DOMCTL_get_stats, .domain = id,
                                .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    ((struct pvkit_domctl_get_stats *)&sop->u)->buffer = (uint64_t)pool[2];
    ((struct pvkit_domctl_get_stats *)&sop->u)->size = 4096;
    EXPECT_EQ(hyp_domctl(sop), 0);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = id,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(op.u.getvcpuinfo.online, 0);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_max_mem, .domain = id,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.max_mem.max_memkb = CHILD_KB * 2;
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(destroy(id), 0); /* still mapped: stays */
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id, 1);
    EXPECT_EQ(unmap_store(h), 0);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id, 0);
    EXPECT_EQ(free_pages(), free0);
    create_op(&op, id, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(op.domain, id);
    EXPECT_EQ(destroy(id), 0);
    EXPECT_EQ(free_pages(), free0);
}

static void rover(void)
{
    struct xen_domctl op;
    uint64_t free0 = free_pages();

    TEST("the id rover once round (32750 picks that fail after the pick): next id, never 0");
    create_op(&op, 0, "multi_create_edges role=1");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t last = op.domain;
    EXPECT_EQ(destroy(last), 0);
    create_op(&op, 0, "multi_create_edges role=1"); /* held, paused, through the loop */
    EXPECT_EQ(hyp_domctl(&op), 0);
    domid_t held = op.domain;
    EXPECT_EQ(held, last + 1);
    struct xen_domctl *ro = (struct xen_domctl *)pool[4];
    create_op(ro, 0, "multi_create_edges role=1");
    EXPECT_EQ(pt_map_ro(pool[4]), 0);
    unsigned int bad = 0;
    for (unsigned int i = 0; i < DOMID_FIRST_RESERVED - 2; i++)
        bad += hyp_domctl(ro) != -XEN_EFAULT;
    EXPECT_EQ(pt_map_rw(pool[4]), 0);
    EXPECT_EQ(bad, 0);
    /* 32750 free ids (1..0x7fef but `held`): the rover went once round, from `held`
     * through 0x7fef, 1, ... to `last`; the next pick skips `held`, in use. */
    create_op(&op, 0, "multi_create_edges role=1");
    EXPECT_EQ(hyp_domctl(&op), 0);
    guest_printf("     before %u, held %u, after the round %u\n", last, held, op.domain);
    EXPECT(op.domain != 0 && op.domain != held);
    EXPECT_EQ(op.domain, held + 1);
    EXPECT_EQ(destroy(op.domain), 0);
    EXPECT_EQ(destroy(held), 0);
    EXPECT_EQ(free_pages(), free0);
}

static void slots(void)
{
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    domid_t ids[64];
    unsigned int n = 0, dup = 0, bad = 0;

    TEST("slots: filled, half freed, refilled, three times; ids unique, nothing lost");
    for (int round = 0; round < 3; round++) {
        for (;;) {
            create_op(&op, 0, "multi_create_edges role=1");
            create_args(&op)->mem_kb = 4096;
            long rc = hyp_domctl(&op);
            if (rc) {
                bad += rc != -XEN_ENOSPC;
                break;
            }
            for (unsigned int i = 0; i < n; i++)
                dup += ids[i] == op.domain;
            ids[n++] = op.domain;
            if (n == 64)
                break;
        }
        guest_printf("     round %d: %u domains\n", round, n);
        unsigned int keep = 0;
        for (unsigned int i = 0; i < n; i++) {
            if (i % 2)
                ids[keep++] = ids[i];
            else
                bad += destroy(ids[i]) != 0;
        }
        n = keep;
    }
    for (unsigned int i = 0; i < n; i++)
        bad += destroy(ids[i]) != 0;
    EXPECT_EQ(dup, 0);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(free_pages(), free0);
}

void test_main(void)
{
    static void (*const tests[])(void) = {
        crafted_images, special_buffers, domains, dying_ids, rover, slots,
    };

    long role = evt_cmdline_num("role", 0);
    if (role)
        child(role);
    /* multi_create's start, with a setup check that crafted copies of the image fit. */
    TEST("setup: our own image is the initrd");
    EXPECT_EQ(evt_init(), 0);
    img_len = guest_start_info->mod_len;
    if (!evt_shared || !EXPECT(img_len > 4096 && img_len + 16 * 64 <= IMG_MAX))
        return;
    pt_pool_init(pool[5], 3);
    evt_dom_exc = create_watch_children();
    test_run_all(tests, sizeof(tests) / sizeof(tests[0]));
    evt_disable();
}
