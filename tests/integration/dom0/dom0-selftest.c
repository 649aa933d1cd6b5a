/*
 * dom0-selftest: runs inside pvkit's dom0 (the image `make dom0` builds) and
 * drives the hypervisor through Linux's /dev/xen devices with Debian's own
 * libraries, as Xen's tools do:
 *   - libxencall (privcmd): a hypercall whose buffer is in this process
 *     (xen_version extraversion), and one with a bad user pointer (EFAULT);
 *   - libxenevtchn (/dev/xen/evtchn): a port offered to domain 0 itself,
 *     bound from the same process, a notification delivered and unmasked;
 *   - libxengnttab's sharing side (gntalloc) and mapping side (gntdev): a
 *     page granted to domain 0 itself, mapped, seen both ways, unmapped;
 *     grant copy in both directions.
 * Prints "RESULT <name> ok|fail <detail>" per check and a final
 * "N passed, N failed" line; exits 0 only if every check passed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <xencall.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xen/xen.h>
#include <xen/version.h>

static int passed, failed;

static void result(const char *name, int ok, const char *fmt, const char *detail)
{
    printf("RESULT %s %s ", name, ok ? "ok" : "fail");
    printf(fmt, detail);
    printf("\n");
    if (ok)
        passed++;
    else
        failed++;
}

static void test_hypercall(void)
{
    xencall_handle *xc = xencall_open(NULL, 0);
    if (!xc) {
        result("privcmd_hypercall", 0, "xencall_open: %s", strerror(errno));
        return;
    }
    char *buf = xencall_alloc_buffer(xc, sizeof(xen_extraversion_t));
    memset(buf, 0x55, sizeof(xen_extraversion_t));
    int rc = xencall2(xc, __HYPERVISOR_xen_version, XENVER_extraversion, (uint64_t)(uintptr_t)buf);
    result("privcmd_hypercall", rc == 0 && memchr(buf, 0, sizeof(xen_extraversion_t)) != NULL,
           "extraversion '%s'", rc == 0 ? buf : strerror(errno));
    rc = xencall2(xc, __HYPERVISOR_xen_version, XENVER_extraversion, 0x10);
    result("privcmd_bad_pointer", rc < 0 && errno == EFAULT, "%s",
           rc < 0 ? strerror(errno) : "succeeded");
    xencall_free_buffer(xc, buf);
    xencall_close(xc);
}

static void test_evtchn(void)
{
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
    if (!xe) {
        result("evtchn_loopback", 0, "xenevtchn_open: %s", strerror(errno));
        return;
    }
    xenevtchn_port_or_error_t a = xenevtchn_bind_unbound_port(xe, 0);
    xenevtchn_port_or_error_t b = a < 0 ? -1 : xenevtchn_bind_interdomain(xe, 0, (uint32_t)a);
    int ok = a >= 0 && b >= 0 && xenevtchn_notify(xe, (uint32_t)b) == 0;
    /* As on Xen, the newly bound end b starts pending; a follows the notify. */
    xenevtchn_port_or_error_t got = -1;
    for (int i = 0; ok && i < 2 && got != a; i++) {
        got = xenevtchn_pending(xe);
        ok = got >= 0 && xenevtchn_unmask(xe, (uint32_t)got) == 0;
    }
    ok = ok && got == a;
    char detail[64];
    snprintf(detail, sizeof(detail), "ports %d<->%d, pending %d", (int)a, (int)b, (int)got);
    result("evtchn_loopback", ok, "%s", detail);
    if (b >= 0)
        xenevtchn_unbind(xe, (uint32_t)b);
    if (a >= 0)
        xenevtchn_unbind(xe, (uint32_t)a);
    xenevtchn_close(xe);
}

static void test_grants(void)
{
    xengntshr_handle *gs = xengntshr_open(NULL, 0);
    xengnttab_handle *gt = xengnttab_open(NULL, 0);
    uint32_t ref = 0;
    char detail[96];

    if (!gs || !gt) {
        result("gntalloc_gntdev_map", 0, "open: %s", strerror(errno));
        return;
    }
    unsigned char *shared = xengntshr_share_pages(gs, 0, 1, &ref, 1);
    if (!shared) {
        result("gntalloc_gntdev_map", 0, "xengntshr_share_pages: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < 4096; i++)
        shared[i] = (unsigned char)(i * 7);
    unsigned char *mapped = xengnttab_map_grant_ref(gt, 0, ref, PROT_READ | PROT_WRITE);
    int ok = mapped && mapped[4095] == (unsigned char)(4095 * 7) && mapped[1] == 7;
    if (mapped)
        mapped[2] = 0xee;
    ok = ok && shared[2] == 0xee;
    snprintf(detail, sizeof(detail), "ref %u mapped at %p", ref, (void *)mapped);
    result("gntalloc_gntdev_map", ok, "%s", detail);
    if (mapped)
        result("gntdev_unmap", xengnttab_unmap(gt, mapped, 1) == 0, "%s", "");

    unsigned char local[64];
    memset(local, 0, sizeof(local));
    xengnttab_grant_copy_segment_t seg = { .len = 16, .flags = GNTCOPY_source_gref };
    seg.source.foreign.ref = ref;
    seg.source.foreign.offset = 8;
    seg.source.foreign.domid = 0;
    seg.dest.virt = local;
    int rc = xengnttab_grant_copy(gt, 1, &seg);
    ok = rc == 0 && seg.status == GNTST_okay && local[0] == 56 && local[15] == (unsigned char)(23 * 7);
    snprintf(detail, sizeof(detail), "rc %d status %d", rc, seg.status);
    result("grant_copy_from_gref", ok, "%s", detail);
    memset(local, 0xab, sizeof(local));
    seg = (xengnttab_grant_copy_segment_t){ .len = 32, .flags = GNTCOPY_dest_gref };
    seg.source.virt = local;
    seg.dest.foreign.ref = ref;
    seg.dest.foreign.offset = 100;
    seg.dest.foreign.domid = 0;
    rc = xengnttab_grant_copy(gt, 1, &seg);
    ok = rc == 0 && seg.status == GNTST_okay && shared[100] == 0xab && shared[131] == 0xab &&
         shared[132] == (unsigned char)(132 * 7);
    snprintf(detail, sizeof(detail), "rc %d status %d", rc, seg.status);
    result("grant_copy_to_gref", ok, "%s", detail);
    xengntshr_unshare(gs, shared, 1);
    xengntshr_close(gs);
    xengnttab_close(gt);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_hypercall();
    test_evtchn();
    test_grants();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
