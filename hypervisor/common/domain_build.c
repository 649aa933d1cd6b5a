/*
 * The PV domain builder: from an ELF64 kernel with Xen notes to a domain whose
 * first vCPU is ready to enter it, laid out as docs/linux-pv-interface.md §1
 * describes (the layout itself is computed in boot_layout.c).
 *
 * Steps: parse and check the kernel; lay out the boot region; allocate the
 * domain's memory (pseudo-physical frame pfn -> machine frame p2m[pfn], and
 * the M2P the other way); copy the kernel and initrd; write the p2m list,
 * start_info, shared_info and (if asked for) the hypercall page; build the
 * initial page tables (mm/boot_tables.c) -- every page of the boot region
 * mapped read-write except the page-table pages themselves, which are
 * mapped read-only and typed in the frame table; then set up vCPU 0 to start at the kernel's entry
 * with RSI pointing at start_info.
 *
 * Frame-table state left behind (the contract the MMU code builds on): the L4
 * is pinned and is the current kernel CR3 (type count 2); each other table
 * page is referenced once by its parent (type count 1); every other mapped
 * page is typed writable with one mapping. Every frame holds one reference
 * per mapping of it. shared_info and a domU's console ring, which the
 * hypervisor writes, also hold one writable type reference of the
 * hypervisor's for the domain's life (they can never become tables).
 */
#include "pvkit/domain_build.h"
#include "pvkit/boot_tables.h"
#include "pvkit/context.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall_page.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/time.h"
#include "pvkit/x86.h"

#define P2M_DIR_ENTRIES 4096  /* p2m list pages: up to 8 GiB per domain */
#define P2M_PER_PAGE    (PAGE_SIZE / sizeof(uint64_t))

/*
 * The build in progress: one at a time, under the hypervisor lock, possibly
 * across the pieces of a continued hypercall (domain_build_start / _step).
 * The configuration is copied in: the caller's may not outlive a piece.
 */
struct builder {
    bool active;
    struct domain *d;
    const struct domain_config *cfg;    /* &cfg_copy */
    struct domain_config cfg_copy;
    struct image_src kernel, initrd;
    char cmdline[MAX_GUEST_CMDLINE];
    struct pv_kernel_info kinfo;
    struct boot_layout layout;
    uint64_t next_p2m_page, next_pfn;   /* allocation progress */
    /*
     * Loading progress: the bytes of the kernel's segments (memsz each, in
     * program-header order) and of the initrd written so far; this piece's
     * byte budget; and, while a pass of pv_kernel_load runs, the segment
     * bytes it has met.
     */
    uint64_t kernel_done, initrd_done, budget, kernel_seen;
};

/* The one build in progress, if any (the_build.active): hypervisor lock. */
static struct builder the_build;

/* Machine frames of the p2m list pages of the domain being built: hypervisor lock. */
static uint64_t p2m_dir[P2M_DIR_ENTRIES];

static uint64_t p2m_get(uint64_t pfn)
{
    return ((uint64_t *)mfn_to_virt(p2m_dir[pfn / P2M_PER_PAGE]))[pfn % P2M_PER_PAGE];
}

static void *pfn_ptr(uint64_t pfn)
{
    return mfn_to_virt(p2m_get(pfn));
}

/*
 * Copies n bytes of img from offset off to pseudo-physical address pa of the
 * domain being built (inside its boot layout: the callers keep it there).
 * 0, or -XEN_EFAULT if the image could not be read.
 */
static int copy_to_pseudo_phys(uint64_t pa, const struct image_src *img, uint64_t off,
                               uint64_t n)
{
    while (n) {
        uint64_t in_page = pa & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - in_page);
        if (img->read(img, off, (uint8_t *)pfn_ptr(pa >> PAGE_SHIFT) + in_page, chunk))
            return -XEN_EFAULT;
        pa += chunk;
        off += chunk;
        n -= chunk;
    }
    return 0;
}

/* Zeroes n bytes at pseudo-physical address pa of the domain being built. */
static void zero_pseudo_phys(uint64_t pa, uint64_t n)
{
    while (n) {
        uint64_t in_page = pa & (PAGE_SIZE - 1), chunk = MIN(n, PAGE_SIZE - in_page);
        memset((uint8_t *)pfn_ptr(pa >> PAGE_SHIFT) + in_page, 0, chunk);
        pa += chunk;
        n -= chunk;
    }
}

/* Bytes of the budget for one more chunk of at most `want` (0: the budget is spent). */
static uint64_t take_budget(struct builder *b, uint64_t want)
{
    uint64_t n = MIN(want, b->budget);
    b->budget -= n;
    return n;
}

/*
 * A segment loader (pv_segment_loader) that resumes: it copies a segment's
 * file part and zeroes the rest up to memsz, in segment order as Xen's
 * libelf does (a later segment's bss clears what an earlier one put there),
 * skipping what earlier pieces wrote and stopping with -XEN_ERESTART when the
 * piece's budget is spent.
 */
static int load_segment(uint64_t pa, const struct image_src *img, uint64_t offset,
                        uint64_t filesz, uint64_t memsz, void *ctx)
{
    struct builder *b = ctx;
    uint64_t start = b->kernel_seen;

    b->kernel_seen += memsz;
    for (uint64_t at = b->kernel_done - MIN(b->kernel_done, start); at < memsz;) {
        uint64_t n = take_budget(b, MIN(memsz - at, PAGE_SIZE - ((pa + at) & (PAGE_SIZE - 1))));
        if (!n)
            return -XEN_ERESTART;
        uint64_t from_file = at < filesz ? MIN(n, filesz - at) : 0;
        int rc = copy_to_pseudo_phys(pa + at, img, offset + at, from_file);
        if (rc)
            return rc;
        zero_pseudo_phys(pa + at + from_file, n - from_file);
        at += n;
        b->kernel_done = start + at;
    }
    return 0;
}

/*
 * Loads the kernel's segments and then the initrd, as far as the budget
 * goes: 0 when both are in place, -XEN_ERESTART when more remain, or
 * -errno. Each pass reads the headers again (pv_kernel_load checks them
 * against the parse), so an image that changed between pieces can only
 * change what lands inside the child's boot region, never where.
 */
static int load_images(struct builder *b)
{
    const struct boot_layout *l = &b->layout;
    const struct image_src *initrd = b->cfg->initrd;
    int rc;

    b->kernel_seen = 0;
    if ((rc = pv_kernel_load(b->cfg->kernel, &b->kinfo, load_segment, b)))
        return rc;
    while (l->initrd_pages && b->initrd_done < initrd->size) {
        uint64_t n = take_budget(b, MIN(initrd->size - b->initrd_done, PAGE_SIZE));
        if (!n)
            return -XEN_ERESTART;
        if ((rc = copy_to_pseudo_phys((l->initrd_pfn << PAGE_SHIFT) + b->initrd_done, initrd,
                                      b->initrd_done, n)))
            return rc;
        b->initrd_done += n;
    }
    return 0;
}

/*
 * Allocates more of the domain's nr_pages frames, a page of the piece's
 * budget each: 0 when all are there, -XEN_ERESTART when more remain,
 * -XEN_ENOMEM. The p2m list
 * lives in the domain's own memory (at p2m_pfn), so its pages are
 * allocated first and every pfn -> mfn entry is written straight into them.
 */
static int allocate_memory(struct builder *b)
{
    const struct boot_layout *l = &b->layout;

    for (; b->next_p2m_page < l->p2m_pages && take_budget(b, PAGE_SIZE); b->next_p2m_page++) {
        int64_t mfn = alloc_zeroed_frame(b->d->id);
        if (mfn < 0)
            return -XEN_ENOMEM;
        p2m_dir[b->next_p2m_page] = (uint64_t)mfn;
    }
    for (; b->next_pfn < l->nr_pages && take_budget(b, PAGE_SIZE); b->next_pfn++) {
        uint64_t pfn = b->next_pfn, mfn;
        if (pfn >= l->p2m_pfn && pfn - l->p2m_pfn < l->p2m_pages) {
            mfn = p2m_dir[pfn - l->p2m_pfn];
        } else {
            int64_t m = alloc_zeroed_frame(b->d->id);
            if (m < 0)
                return -XEN_ENOMEM;
            mfn = (uint64_t)m;
        }
        ((uint64_t *)mfn_to_virt(p2m_dir[pfn / P2M_PER_PAGE]))[pfn % P2M_PER_PAGE] = mfn;
        m2p_set(mfn, pfn);
    }
    return b->next_pfn == l->nr_pages ? 0 : -XEN_ERESTART;
}

static uint64_t pfn_va(const struct boot_layout *l, uint64_t pfn)
{
    return l->virt_base + (pfn << PAGE_SHIFT);
}

static void write_start_info(struct builder *b)
{
    const struct boot_layout *l = &b->layout;
    struct start_info *si = pfn_ptr(l->start_info_pfn);

    strlcpy(si->magic, "xen-3.0-x86_64", sizeof(si->magic));
    si->nr_pages = l->nr_pages;
    si->shared_info = b->d->shared_info_mfn << PAGE_SHIFT;
    si->flags = b->cfg->privileged ? SIF_PRIVILEGED | SIF_INITDOMAIN : 0;
    if (l->store_pfn) {
        si->store_mfn = p2m_get(l->store_pfn);
        si->console.domU.mfn = p2m_get(l->console_pfn);
        si->console.domU.evtchn = b->d->console_port;
        si->store_evtchn = b->d->store_port;
    }
    si->pt_base = pfn_va(l, l->pt_pfn);
    si->nr_pt_frames = l->nr_pt_frames;
    si->mfn_list = pfn_va(l, l->p2m_pfn);
    if (l->initrd_pages) {
        si->mod_start = pfn_va(l, l->initrd_pfn);
        si->mod_len = b->cfg->initrd->size;
    }
    strlcpy((char *)si->cmd_line, b->cfg->cmdline ? b->cfg->cmdline : "",
            sizeof(si->cmd_line));
}

/*
 * shared_info is the domain's frame, but the hypervisor writes it (pending
 * bits, vcpu_info, time) for the domain's whole life: it holds a writable
 * type reference on it, so the guest can never make it a page table or
 * descriptor page, nor give it back.
 */
int domain_setup_shared_info(struct domain *d)
{
    int64_t mfn = alloc_zeroed_frame(d->id);
    if (mfn < 0)
        return -XEN_ENOMEM;
    int rc = get_page_and_type(d, (uint64_t)mfn, FRAME_TYPE_WRITABLE);
    if (rc)
        return rc;
    d->shared_info_mfn = (uint64_t)mfn;
    d->shared_info = mfn_to_virt((uint64_t)mfn);
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        d->shared_info->vcpu_info[i].evtchn_upcall_mask = 1;
    /* Wall-clock time at system time 0, version-protected (even: stable). */
    time_boot_wallclock(&d->shared_info->wc_sec, &d->shared_info->wc_nsec);
    d->shared_info->wc_version = 2;
    return 0;
}

/* vCPUs 1..n-1 exist from the start but stay down until VCPUOP_initialise/up. */
static void setup_secondary_vcpus(struct domain *d, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++) {
        struct vcpu *v = &d->vcpus[i];
        v->domain = d;
        v->id = i;
        vcpu_set_state(v, VCPU_DOWN);
        v->vcpu_info = &d->shared_info->vcpu_info[i];
        v->runstate.state = RUNSTATE_offline;
        v->runstate.state_entry_time = system_time_ns(); /* offline since its creation */
        fpu_init_state(v);
    }
}

static void setup_vcpu0(struct builder *b)
{
    const struct boot_layout *l = &b->layout;
    struct domain *d = b->d;
    struct vcpu *v = &d->vcpus[0];

    d->nr_vcpus = b->cfg->nr_vcpus ? b->cfg->nr_vcpus : 1;
    v->domain = d;
    v->id = 0;
    vcpu_set_state(v, VCPU_RUNNABLE);
    v->initialised = true;
    fpu_init_state(v);
    setup_secondary_vcpus(d, d->nr_vcpus);
    v->in_kernel = true;
    v->kernel_l4_mfn = p2m_get(l->pt_pfn);
    v->vcpu_info = &d->shared_info->vcpu_info[0];
    v->runstate.state = RUNSTATE_runnable; /* running once first scheduled */
    v->runstate.state_entry_time = system_time_ns();
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rip = b->kinfo.entry;
    v->regs.rsp = pfn_va(l, l->stack_pfn + 1);
    v->regs.rsi = pfn_va(l, l->start_info_pfn);
    v->regs.rflags = RFLAGS_IF | 2;
    v->regs.cs = FLAT_KERNEL_CS;
    v->regs.ss = FLAT_KERNEL_SS;
}

static bool guest_range_ok_for_layout(const struct boot_layout *l)
{
    return guest_range_ok(l->virt_base, l->mapped_pages << PAGE_SHIFT);
}

static int check_config(struct builder *b, const char **why)
{
    const struct domain_config *cfg = b->cfg;
    uint64_t nr_pages = cfg->mem_bytes >> PAGE_SHIFT;
    int rc;

    if ((rc = pv_kernel_parse(cfg->kernel, &b->kinfo, why)) ||
        (rc = pv_kernel_check_domain_kind(&b->kinfo, cfg->privileged, why)))
        return rc;
    rc = boot_layout_compute(b->kinfo.virt_base, b->kinfo.pend,
                             cfg->initrd ? cfg->initrd->size : 0, nr_pages,
                             !cfg->privileged, &b->layout);
    if (rc == -XEN_ENOMEM)
        *why = "memory too small for the kernel's boot layout";
    else if (rc)
        *why = "kernel, initrd and boot tables do not fit in 1 GiB";
    else if (!guest_range_ok_for_layout(&b->layout))
        *why = "VIRT_BASE places the boot mapping over the hypervisor's slots", rc = -XEN_EINVAL;
    else if (cfg->nr_vcpus > MAX_VCPUS_PER_DOM || cfg->mem_bytes % PAGE_SIZE)
        *why = "too many vCPUs, or memory not whole pages", rc = -XEN_EINVAL;
    else if (b->layout.p2m_pages > P2M_DIR_ENTRIES)
        *why = "domain larger than 8 GiB", rc = -XEN_EINVAL;
    else if (nr_pages > frame_table.nr_free)
        *why = "not enough free memory", rc = -XEN_ENOMEM;
    return rc;
}

/* Everything after the memory: the kernel and initrd, tables, start_info, vCPUs. */
static int populate(struct builder *b)
{
    const struct domain_config *cfg = b->cfg;
    const struct boot_layout *l = &b->layout;
    int rc;

    if (b->kinfo.has_hypercall_page)
        hypercall_page_write(pfn_ptr((b->kinfo.hypercall_page - b->kinfo.virt_base) >> PAGE_SHIFT));
    boot_tables_build(&b->layout, p2m_get);
    /* After the page tables: the ring's references add to its mapping's. */
    if (l->console_pfn && (rc = console_ring_attach(b->d, p2m_get(l->console_pfn))) < 0)
        return rc;
    if (l->store_pfn)
        b->d->store_mfn = p2m_get(l->store_pfn);
    if (l->store_pfn && cfg->store_channel) {
        int port = evtchn_alloc_unbound_port(b->d, 0);
        if (port < 0)
            return port;
        b->d->store_port = (unsigned int)port;
    }
    grant_table_seed(b->d, l->console_pfn ? p2m_get(l->console_pfn) : 0, b->d->store_mfn);
    write_start_info(b);
    setup_vcpu0(b);
    return 0;
}

/* Copies cfg, and what it points at, into the builder. */
static void take_config(struct builder *b, const struct domain_config *cfg)
{
    b->cfg_copy = *cfg;
    b->kernel = *cfg->kernel;
    b->cfg_copy.kernel = &b->kernel;
    if (cfg->initrd) {
        b->initrd = *cfg->initrd;
        b->cfg_copy.initrd = &b->initrd;
    }
    strlcpy(b->cmdline, cfg->cmdline ? cfg->cmdline : "", sizeof(b->cmdline));
    b->cfg_copy.cmdline = b->cmdline;
    b->cfg = &b->cfg_copy;
}

static void build_failed(struct builder *b, int rc)
{
    printk(LOG_ERR, "(pvkit) d%u: build failed: %s\n", b->cfg->id,
           rc == -XEN_EFAULT ? "image unreadable" : rc == -XEN_EINVAL ? "image changed"
                                                   : "out of memory");
    domain_free(b->d);
    b->active = false;
}

int domain_build_start(const struct domain_config *cfg)
{
    struct builder *b = &the_build;
    const char *why = "";
    int rc;

    if (b->active)
        return -XEN_EBUSY;
    memset(b, 0, sizeof(*b));
    take_config(b, cfg);
    if ((rc = check_config(b, &why))) {
        printk(LOG_ERR, "(pvkit) d%u: kernel refused: %s\n", cfg->id, why);
        return rc;
    }
    if (domain_find(cfg->id)) {
        printk(LOG_ERR, "(pvkit) d%u: a domain with this id exists\n", cfg->id);
        return -XEN_EEXIST;
    }
    b->d = domain_alloc(cfg->id);
    if (!b->d) {
        printk(LOG_ERR, "(pvkit) d%u: no domain slot free\n", cfg->id);
        return -XEN_ENOSPC;
    }
    b->d->privileged = cfg->privileged;
    b->d->paused = cfg->paused;
    b->d->building = true;
    b->d->nr_pages = b->d->max_pages = b->layout.nr_pages;
    b->active = true;
    /* shared_info and the grant table first: the domain's, but outside its p2m. */
    if ((rc = domain_setup_shared_info(b->d)) || (rc = grant_table_create(b->d))) {
        build_failed(b, rc);
        return rc;
    }
    return 0;
}

int domain_build_step(uint64_t frames, struct domain **out)
{
    struct builder *b = &the_build;
    int rc;

    if (!b->active)
        return -XEN_EINVAL;
    b->budget = frames > UINT64_MAX / PAGE_SIZE ? UINT64_MAX : frames * PAGE_SIZE;
    rc = allocate_memory(b);
    if (rc == 0)
        rc = load_images(b);
    if (rc == -XEN_ERESTART)
        return rc;
    if (rc || (rc = populate(b))) {
        build_failed(b, rc);
        return rc;
    }
    printk(LOG_INFO, "(pvkit) d%u: %s kernel, entry %lx, %lu MiB, boot map %lu KiB "
           "(start_info %lx, page tables %lx+%lu)%s\n", b->cfg->id,
           b->kinfo.guest_os[0] ? b->kinfo.guest_os : "PV", (unsigned long)b->kinfo.entry,
           (unsigned long)(b->layout.nr_pages >> 8),
           (unsigned long)(b->layout.mapped_pages << 2),
           (unsigned long)pfn_va(&b->layout, b->layout.start_info_pfn),
           (unsigned long)pfn_va(&b->layout, b->layout.pt_pfn),
           (unsigned long)b->layout.nr_pt_frames,
           b->kinfo.has_hypercall_page ? ", hypercall page" : "");
    b->d->building = false;
    b->active = false;
    *out = b->d;
    return 0;
}

struct domain *domain_build_pending(void)
{
    return the_build.active ? the_build.d : NULL;
}

void domain_build_abandon(void)
{
    struct builder *b = &the_build;
    if (!b->active)
        return;
    printk(LOG_INFO, "(pvkit) d%u: build abandoned\n", b->cfg->id);
    domain_free(b->d);
    b->active = false;
}

int domain_build(const struct domain_config *cfg, struct domain **out)
{
    if (cfg->type == DOMAIN_PVH)
        return pvh_domain_build(cfg, out);
    int rc = domain_build_start(cfg);
    return rc ? rc : domain_build_step(UINT64_MAX, out);
}
