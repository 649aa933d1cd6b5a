/*
 * build: checks, builds and starts a domain, all or nothing (build.h).
 */
#include "build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootloader.h"
#include "devices.h"
#include "kernel.h"
#include "public/pvkit.h"
#include "store.h"
#include "util.h"

/* Copies LEN bytes of SRC into a fresh hypercall buffer. */
static void *to_hv(struct ctx *c, const void *src, size_t len)
{
    void *p = hv_alloc(c->hv, len);
    if (p)
        memcpy(p, src, len);
    return p;
}

void build_images_free(struct ctx *c, struct build_images *img)
{
    hv_free(c->hv, img->kernel, img->kernel_size);
    hv_free(c->hv, img->ramdisk, img->ramdisk_size);
    hv_free(c->hv, img->cmdline, img->cmdline_size);
    memset(img, 0, sizeof(*img));
}

/* The images in dom0's memory before they go to hypercall buffers. */
struct host_images {
    unsigned char *kernel; size_t kernel_size;  /* unpacked: an ELF with Xen notes */
    unsigned char *ramdisk; size_t ramdisk_size; /* NULL if none */
    char *cmdline;
};

static void host_images_free(struct host_images *h)
{
    free(h->kernel);
    free(h->ramdisk);
    free(h->cmdline);
    memset(h, 0, sizeof(*h));
}

int build_run_bootloader(const struct domcfg *dc, struct boot_choice *out,
                         char err[BUILD_ERR_MAX])
{
    struct boot_request req = { .entry = dc->bootloader_entry, .kernel = dc->kernel,
                                .ramdisk = dc->ramdisk, .args = dc->cmdline };
    char why[BOOT_ERR_MAX];
    int rc = bootloader_load_path(dc->disks[0].target, &req, out, why);

    if (rc)
        snprintf(err, BUILD_ERR_MAX, "%s", why);
    return rc;
}

/* The kernel, initrd and command line from the guest's disk (dc->bootloader). */
static int load_from_disk(const struct domcfg *dc, struct host_images *h, char err[BUILD_ERR_MAX])
{
    struct boot_choice bc;
    char kerr[KERNEL_ERR_MAX], name[KERNEL_ERR_MAX / 2];
    int rc = build_run_bootloader(dc, &bc, err);

    if (rc)
        return rc;
    snprintf(name, sizeof(name), "%s:%s", dc->disks[0].target, bc.kernel_path);
    rc = kernel_from_buffer(name, bc.kernel, bc.kernel_size, &h->kernel, &h->kernel_size, kerr);
    bc.kernel = NULL; /* kernel_from_buffer took it */
    if (rc)
        snprintf(err, BUILD_ERR_MAX, "%s", kerr);
    h->ramdisk = bc.ramdisk;
    h->ramdisk_size = bc.ramdisk_size;
    h->cmdline = bc.cmdline;
    bc.ramdisk = NULL;
    bc.cmdline = NULL;
    boot_choice_free(&bc);
    if (rc)
        host_images_free(h);
    return rc;
}

/* The kernel and ramdisk files in dom0 that DC names, and its command line. */
static int load_from_files(const struct domcfg *dc, struct host_images *h,
                           char err[BUILD_ERR_MAX])
{
    char kerr[KERNEL_ERR_MAX];
    int rc = kernel_load(dc->kernel, &h->kernel, &h->kernel_size, kerr);

    if (rc) {
        snprintf(err, BUILD_ERR_MAX, "%s", kerr);
        return rc;
    }
    if (dc->ramdisk &&
        (rc = read_whole_file(dc->ramdisk, KERNEL_MAX_FILE, &h->ramdisk, &h->ramdisk_size))) {
        snprintf(err, BUILD_ERR_MAX, "%s: %s", dc->ramdisk,
                 rc == -EFBIG ? "larger than 256 MiB" : strerror(-rc));
        host_images_free(h);
        return rc;
    }
    h->cmdline = xstrdup(dc->cmdline);
    return 0;
}

/* H from wherever DC says: the guest's disk or dom0's files. All or nothing. */
static int load_images(const struct domcfg *dc, struct host_images *h, char err[BUILD_ERR_MAX])
{
    memset(h, 0, sizeof(*h));
    return dc->bootloader ? load_from_disk(dc, h, err) : load_from_files(dc, h, err);
}

/*
 * 0 if every device of DC has its backend daemon running in dom0
 * (devices.h), else -ESRCH with "NAME: disk xvdb: pvkit-blkback is not
 * running in dom0" in ERR.
 */
static int check_backends(const struct domcfg *dc, char err[BUILD_ERR_MAX])
{
    pid_t pid;
    if (dc->nr_disks && devices_backend_pid("vbd", &pid)) {
        snprintf(err, BUILD_ERR_MAX, "%s: disk %s: %s is not running in dom0", dc->name,
                 dc->disks[0].vdev, devices_backend_name("vbd"));
        return -ESRCH;
    }
    if (dc->nr_vifs && devices_backend_pid("vif", &pid)) {
        snprintf(err, BUILD_ERR_MAX, "%s: vif 0: %s is not running in dom0", dc->name,
                 devices_backend_name("vif"));
        return -ESRCH;
    }
    return 0;
}

int build_check_and_load(struct ctx *c, const struct domcfg *dc, struct build_images *img,
                         char err[BUILD_ERR_MAX])
{
    struct dominfo_list l = {0};
    struct hostinfo hi = {0};
    uint32_t other;
    int rc;

    memset(img, 0, sizeof(*img));
    if ((rc = hv_list_domains(c->hv, &l))) {
        snprintf(err, BUILD_ERR_MAX, "cannot list domains: %s", hv_strerror(rc));
        return rc;
    }
    store_fill_names(c->xs, &l);
    bool dup = store_name_in_use(&l, dc->name, &other);
    dominfo_list_free(&l);
    if (dup) {
        snprintf(err, BUILD_ERR_MAX, "%s: a domain with this name exists (id %u)", dc->name, other);
        return -EEXIST;
    }
    if (dc->maxvcpus > PVKIT_MAX_VCPUS) {
        snprintf(err, BUILD_ERR_MAX, "%s: %ld vCPUs asked, a pvkit domain has at most %d",
                 dc->name, dc->maxvcpus, PVKIT_MAX_VCPUS);
        return -EINVAL;
    }
    if ((rc = hv_physinfo(c->hv, &hi))) {
        snprintf(err, BUILD_ERR_MAX, "cannot read the host's memory: %s", hv_strerror(rc));
        return rc;
    }
    uint64_t free_mib = hi.free_pages / 256;
    if ((uint64_t)dc->memory_mib > free_mib) {
        snprintf(err, BUILD_ERR_MAX, "%s: %ld MiB of memory asked, the hypervisor has %llu MiB free",
                 dc->name, dc->memory_mib, (unsigned long long)free_mib);
        return -ENOMEM;
    }
    for (size_t i = 0; i < dc->nr_disks; i++)
        if ((rc = devices_check_target(&dc->disks[i], err, BUILD_ERR_MAX)))
            return rc;
    if ((rc = check_backends(dc, err)))
        return rc;
    struct host_images h;
    if ((rc = load_images(dc, &h, err)))
        return rc;
    if (strlen(h.cmdline) + 1 > PVKIT_CMDLINE_MAX) {
        snprintf(err, BUILD_ERR_MAX, "%s: command line of %zu bytes, at most %d", dc->name,
                 strlen(h.cmdline), PVKIT_CMDLINE_MAX - 1);
        host_images_free(&h);
        return -EINVAL;
    }
    img->kernel_size = h.kernel_size;
    img->ramdisk_size = h.ramdisk_size;
    img->cmdline_size = strlen(h.cmdline) + 1;
    img->kernel = to_hv(c, h.kernel, h.kernel_size);
    img->ramdisk = h.ramdisk_size ? to_hv(c, h.ramdisk, h.ramdisk_size) : NULL; /* "" is none */
    img->cmdline = to_hv(c, h.cmdline, img->cmdline_size);
    bool nomem = !img->kernel || (h.ramdisk_size && !img->ramdisk) || !img->cmdline;
    host_images_free(&h);
    if (nomem) {
        build_images_free(c, img);
        snprintf(err, BUILD_ERR_MAX, "out of hypercall buffer memory for the kernel and ramdisk");
        return -ENOMEM;
    }
    return 0;
}

/* Why create_pv refused, in words (pvkit.h's list). */
static const char *create_error(int rc)
{
    switch (rc) {
    case -EINVAL: return "refused by the hypervisor's builder (its log, `pvkit dmesg`, says why)";
    case -EEXIST: return "domain id in use";
    case -ENOSPC: return "no free domain slot";
    case -ENOMEM: return "not enough free memory in the hypervisor";
    case -EFAULT: return "the hypervisor could not read the kernel or ramdisk";
    default: return hv_strerror(rc);
    }
}

int build_domain(struct ctx *c, const struct domcfg *dc, const char *config,
                 const struct build_images *img, uint32_t *domid, char err[BUILD_ERR_MAX])
{
    struct hv_create in = {
        .kernel = img->kernel, .kernel_size = img->kernel_size,
        .initrd = img->ramdisk, .initrd_size = img->ramdisk_size,
        .cmdline = img->cmdline, .mem_kb = (uint64_t)dc->memory_mib * 1024,
        .max_vcpus = (uint32_t)dc->maxvcpus,
    };
    struct hv_created out;
    int rc = hv_create_pv(c->hv, &in, &out);

    if (rc) {
        snprintf(err, BUILD_ERR_MAX, "%s: cannot create the domain: %s", dc->name, create_error(rc));
        return rc;
    }
    const char *step = "set its maximum memory";
    rc = hv_max_mem(c->hv, out.domid, (uint64_t)dc->maxmem_mib * 1024);
    if (rc == -ENOSYS && dc->maxmem_mib == dc->memory_mib)
        rc = 0; /* an older hypervisor: the build's memory is the limit anyway */
    if (rc)
        goto undo;
    char uuid[37];
    store_new_uuid(uuid);
    struct store_domain sd = {
        .domid = out.domid, .name = dc->name, .uuid = uuid,
        .target_kb = (uint64_t)dc->memory_mib * 1024, .max_kb = (uint64_t)dc->maxmem_mib * 1024,
        .vcpus = (uint32_t)dc->vcpus, .max_vcpus = (uint32_t)dc->maxvcpus,
        .store_mfn = out.store_mfn, .console_mfn = out.console_mfn,
        .store_port = out.store_port, .console_port = out.console_port,
        .config = config, .kernel = dc->kernel, .ramdisk = dc->ramdisk, .cmdline = dc->cmdline,
        .on_poweroff = domcfg_action_name(dc->on_poweroff),
        .on_reboot = domcfg_action_name(dc->on_reboot),
        .on_crash = domcfg_action_name(dc->on_crash),
    };
    step = "write its xenstore entries";
    if ((rc = store_write_domain(c->xs, &sd)))
        goto undo;
    step = "introduce it to xenstored";
    if ((rc = store_introduce(c->xs, out.domid, out.store_mfn, out.store_port)))
        goto undo;
    for (size_t i = 0; i < dc->nr_disks; i++) {
        step = "add its disk";
        if ((rc = devices_add_disk(c->xs, out.domid, &dc->disks[i])))
            goto undo;
    }
    for (size_t i = 0; i < dc->nr_vifs; i++) {
        struct domcfg_vif v = dc->vifs[i]; /* gets a MAC if it has none */
        step = "add its network interface";
        if ((rc = devices_add_vif(c->xs, out.domid, (unsigned)i, &v)))
            goto undo;
    }
    step = "unpause it";
    if ((rc = hv_unpause(c->hv, out.domid)))
        goto undo;
    *domid = out.domid;
    return 0;
undo:
    snprintf(err, BUILD_ERR_MAX, "%s: cannot %s: %s", dc->name, step, hv_strerror(rc));
    domain_destroy_all(c, out.domid);
    return rc;
}
