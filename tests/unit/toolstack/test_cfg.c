/*
 * Unit tests of the toolstack's xl.cfg reader: the syntax (tools/pvkit/cfg.c)
 * and the domain keys (tools/pvkit/domcfg.c), good configurations and every
 * kind of bad one, whose answer must be one line naming the file and line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfg.h"
#include "devices.h"
#include "domcfg.h"

static char err[CFG_ERR_MAX];

static int parse(struct cfg *c, const char *text)
{
    return cfg_parse(c, text, strlen(text), "t.cfg", err);
}

static void test_values(void **state)
{
    struct cfg c;
    const char *s;
    long n;
    struct cfg_value **items;
    size_t nr;

    (void)state;
    cfg_init(&c);
    assert_int_equal(parse(&c, "# a comment\n"
                               "name = \"web\"   # trailing comment\n"
                               "memory=0x200; vcpus = 2\n"
                               "extra = 'console=hvc0 \\x41\\101\\t\\'q\\''\n"
                               "disk = [ '/img/a,raw,xvda,rw',\n"
                               "         # comment inside a list\n"
                               "         \"/img/b,,xvdb\", ]\n"
                               "empty = []\n"
                               "nested = [ [ '1' ], '2' ]\n"
                               "\n;;\n"), 0);
    assert_int_equal(cfg_get_string(&c, "name", &s, err), 0);
    assert_string_equal(s, "web");
    assert_int_equal(cfg_get_long(&c, "memory", 1, 4096, &n, err), 0);
    assert_int_equal(n, 512);
    assert_int_equal(cfg_get_long(&c, "vcpus", 1, 8, &n, err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cfg_get_string(&c, "extra", &s, err), 0);
    assert_string_equal(s, "console=hvc0 AA\t'q'");
    assert_int_equal(cfg_get_list(&c, "disk", &items, &nr, err), 0);
    assert_int_equal(nr, 2);
    assert_string_equal(items[1]->str, "/img/b,,xvdb");
    assert_int_equal(cfg_get_list(&c, "empty", &items, &nr, err), 0);
    assert_int_equal(nr, 0);
    assert_int_equal(cfg_get_list(&c, "nested", &items, &nr, err), -EINVAL);
    assert_non_null(strstr(err, "t.cfg:9: nested: a list item is itself a list"));
    assert_int_equal(cfg_get_string(&c, "absent", &s, err), -ENOENT);
    cfg_free(&c);
}

static void test_override_and_append(void **state)
{
    struct cfg c;
    const char *s;
    long n;
    struct cfg_value **items;
    size_t nr;

    (void)state;
    cfg_init(&c);
    assert_int_equal(parse(&c, "memory = 128\nextra = 'a'\nextra += ' b'\n"
                               "vif = ['mac=00:16:3e:00:00:01']\nmemory = 256\n"), 0);
    assert_int_equal(cfg_parse(&c, "memory=512", 10, "command line", err), 0);
    assert_int_equal(cfg_parse(&c, "vif += [ 'bridge=br1' ]", 23, "command line", err), 0);
    assert_int_equal(cfg_get_long(&c, "memory", 1, 1024, &n, err), 0);
    assert_int_equal(n, 512);
    assert_int_equal(cfg_get_string(&c, "extra", &s, err), 0);
    assert_string_equal(s, "a b");
    assert_int_equal(cfg_get_list(&c, "vif", &items, &nr, err), 0);
    assert_int_equal(nr, 2);
    assert_string_equal(items[1]->str, "bridge=br1");
    /* the line of a message is the line that set the value last */
    assert_int_equal(cfg_get_long(&c, "memory", 1, 100, &n, err), -EINVAL);
    assert_string_equal(err, "command line:1: memory: 512 is out of range (1 to 100)");
    /* += of a list to a string: refused, and nothing of that text applies */
    assert_int_equal(parse(&c, "memory = 64\nextra += ['x']\n"), -EINVAL);
    assert_non_null(strstr(err, "t.cfg:2:"));
    assert_int_equal(cfg_get_long(&c, "memory", 1, 1024, &n, err), 0);
    assert_int_equal(n, 512);
    cfg_free(&c);
}

static void test_numbers(void **state)
{
    struct cfg c;
    long n;

    (void)state;
    cfg_init(&c);
    assert_int_equal(parse(&c, "a = '64'\nb = 12abc\nc = [1]\nd = 99999999999999999999\n"), 0);
    assert_int_equal(cfg_get_long(&c, "a", 1, 100, &n, err), 0); /* quoted: as xl */
    assert_int_equal(n, 64);
    assert_int_equal(cfg_get_long(&c, "b", 1, 100, &n, err), -EINVAL);
    assert_string_equal(err, "t.cfg:2: b: not a valid number");
    assert_int_equal(cfg_get_long(&c, "c", 1, 100, &n, err), -EINVAL);
    assert_string_equal(err, "t.cfg:3: c: is a list but should be a single value");
    assert_int_equal(cfg_get_long(&c, "d", 1, 100, &n, err), -EINVAL);
    assert_string_equal(err, "t.cfg:4: d: not a valid number");
    cfg_free(&c);
}

/* Each text is refused with its line and nothing is applied. */
static void test_syntax_errors(void **state)
{
    static const struct { const char *text, *want; } cases[] = {
        { "name = web\n", "t.cfg:1: config parsing error near `web': a string value must be quoted" },
        { "a = 1\nname 'x'\n", "t.cfg:2: config parsing error near `'x'': expected `=' or `+=' after the key" },
        { "a = 1\n\nb = 'open\n", "t.cfg:3: config parsing error near `'open': unterminated string or bad escape" },
        { "a = 'bad \\x'\n", "t.cfg:1: config parsing error near `'bad \\x': unterminated string or bad escape" },
        { "a = 1 2\n", "t.cfg:1: config parsing error near `2': expected the end of the setting (a new line or `;')" },
        { "a = [ '1' '2' ]\n", "t.cfg:1: config parsing error near `'2'': expected `,' or `]' in a list" },
        { "a = [ '1',\n'2'\n", "t.cfg:3: config parsing error at end of file: expected `,' or `]' in a list" },
        { "a =\n", "t.cfg:1: config parsing error at end of line: expected a value (string, number or list)" },
        { "= 1\n", "t.cfg:1: config parsing error near `=': expected a setting `KEY = VALUE'" },
        { "a = 1 $\n", "t.cfg:1: config parsing error near `$': unexpected character" },
        { "a = '\\0'\n", "t.cfg:1: config parsing error near `'\\0': unterminated string or bad escape" },
        { "a = [[[[[[[[[[[[[[[[[['x']]]]]]]]]]]]]]]]]]\n", "t.cfg:1: config parsing error near `[': lists nested too deeply" },
        /* A control character in a quoted token (a line end after a backslash) is shown as '?': one line. */
        { "a = 'x\\\ny\n", "t.cfg:1: config parsing error near `'x\\?y': unterminated string or bad escape" },
    };
    struct cfg c;
    long n;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        cfg_init(&c);
        assert_int_equal(parse(&c, "keep = 7\n"), 0);
        assert_int_equal(parse(&c, cases[i].text), -EINVAL);
        assert_string_equal(err, cases[i].want);
        assert_int_equal(c.nr_settings, 1);
        assert_int_equal(cfg_get_long(&c, "keep", 0, 10, &n, err), 0);
        cfg_free(&c);
    }
    cfg_init(&c);
    assert_int_equal(cfg_parse(&c, "a = 1\0", 6, "nul.cfg", err), -EINVAL);
    assert_string_equal(err, "nul.cfg: config parsing error: the file holds a NUL byte");
    cfg_free(&c);
}

static void test_files(void **state)
{
    char path[] = "/tmp/pvkit-cfg-XXXXXX";
    int fd = mkstemp(path);
    struct cfg c;
    const char *s;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "name = 'f'\n", 11), 11);
    close(fd);
    cfg_init(&c);
    assert_int_equal(cfg_parse_file(&c, path, err), 0);
    assert_int_equal(cfg_get_string(&c, "name", &s, err), 0);
    assert_string_equal(s, "f");
    unlink(path);
    assert_int_equal(cfg_parse_file(&c, path, err), -ENOENT);
    assert_non_null(strstr(err, ": No such file or directory"));
    assert_int_equal(cfg_parse_file(&c, "/tmp", err), -EISDIR);
    assert_string_equal(err, "/tmp: Is a directory");
    cfg_free(&c);
}

/* --- domcfg ---------------------------------------------------------------- */

static char warnings[8][CFG_ERR_MAX];
static int nr_warnings;

static void collect(void *arg, const char *msg)
{
    (void)arg;
    if (nr_warnings < 8)
        snprintf(warnings[nr_warnings++], CFG_ERR_MAX, "%s", msg);
}

static int domcfg_of(const char *text, struct domcfg *dc)
{
    struct cfg c;
    int rc;

    nr_warnings = 0;
    cfg_init(&c);
    rc = parse(&c, text);
    if (!rc)
        rc = domcfg_from_cfg(&c, dc, collect, NULL, err);
    cfg_free(&c);
    return rc;
}

static void test_domcfg_defaults(void **state)
{
    struct domcfg dc;

    (void)state;
    assert_int_equal(domcfg_of("name = 'a'\nkernel = '/boot/vmlinuz'\n", &dc), 0);
    assert_string_equal(dc.name, "a");
    assert_int_equal(dc.memory_mib, 32);
    assert_int_equal(dc.maxmem_mib, 32);
    assert_int_equal(dc.vcpus, 1);
    assert_int_equal(dc.maxvcpus, 1);
    assert_null(dc.ramdisk);
    assert_string_equal(dc.cmdline, "");
    assert_int_equal(dc.on_poweroff, ACTION_DESTROY);
    assert_int_equal(dc.on_reboot, ACTION_RESTART);
    assert_int_equal(dc.on_crash, ACTION_DESTROY);
    assert_int_equal(dc.nr_disks, 0);
    assert_int_equal(dc.nr_vifs, 0);
    assert_int_equal(nr_warnings, 0);
    domcfg_free(&dc);
}

static void test_domcfg_full(void **state)
{
    struct domcfg dc;

    (void)state;
    assert_int_equal(domcfg_of(
        "name = 'web-1'\ntype = 'pv'\nmemory = 256\nmaxmem = 512\nvcpus = 2\nmaxvcpus = 4\n"
        "kernel = '/boot/vmlinuz'\nramdisk = '/boot/initrd'\nroot = '/dev/xvda1 ro'\n"
        "extra = 'console=hvc0'\non_poweroff = 'preserve'\non_reboot = 'destroy'\n"
        "on_crash = 'restart'\n"
        "disk = [ '/img/a.img,raw,xvda,rw', 'phy:/dev/vg/b,xvdb,ro',\n"
        "         'format=raw, vdev=xvdc, access=r, target=/img/c,with,commas',\n"
        "         '/img/d,,sdd', 'file:/img/e,hdb:disk,w', '/img/f.iso,,hdc,cdrom',\n"
        "         'vdev=xvdd:cdrom, target=/img/g.iso', '/img/h,raw,xvde,devtype=cdrom' ]\n"
        "vif = [ 'mac=00:16:3E:01:02:03, bridge=xenbr0, ip=169.254.1.2', '',\n"
        "        'vifname=web0,model=virtio,script=vif-bridge,colour=blue' ]\n"
        "cpus = 'all'\n", &dc), 0);
    assert_int_equal(dc.memory_mib, 256);
    assert_int_equal(dc.maxmem_mib, 512);
    assert_int_equal(dc.vcpus, 2);
    assert_int_equal(dc.maxvcpus, 4);
    assert_string_equal(dc.ramdisk, "/boot/initrd");
    assert_string_equal(dc.cmdline, "root=/dev/xvda1 ro console=hvc0");
    assert_int_equal(dc.on_poweroff, ACTION_PRESERVE);
    assert_int_equal(dc.on_reboot, ACTION_DESTROY);
    assert_int_equal(dc.on_crash, ACTION_RESTART);
    assert_int_equal(dc.nr_disks, 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(dc.disks[i].cdrom, i >= 5);
    assert_true(dc.disks[5].readonly); /* a cdrom is read-only */
    assert_string_equal(dc.disks[6].vdev, "xvdd");
    assert_string_equal(dc.disks[6].target, "/img/g.iso");
    assert_string_equal(dc.disks[0].target, "/img/a.img");
    assert_false(dc.disks[0].readonly);
    assert_string_equal(dc.disks[1].target, "/dev/vg/b");
    assert_string_equal(dc.disks[1].vdev, "xvdb");
    assert_true(dc.disks[1].readonly);
    assert_string_equal(dc.disks[2].target, "/img/c,with,commas");
    assert_string_equal(dc.disks[2].vdev, "xvdc");
    assert_true(dc.disks[2].readonly);
    assert_string_equal(dc.disks[3].vdev, "sdd");
    assert_string_equal(dc.disks[4].target, "/img/e");
    assert_string_equal(dc.disks[4].vdev, "hdb");
    assert_int_equal(dc.nr_vifs, 3);
    assert_true(dc.vifs[0].has_mac);
    assert_memory_equal(dc.vifs[0].mac, ((unsigned char[]){ 0, 0x16, 0x3e, 1, 2, 3 }), 6);
    assert_string_equal(dc.vifs[0].bridge, "xenbr0");
    assert_string_equal(dc.vifs[0].ip, "169.254.1.2");
    assert_false(dc.vifs[1].has_mac);
    assert_null(dc.vifs[1].bridge);
    assert_string_equal(dc.vifs[2].vifname, "web0");
    assert_int_equal(nr_warnings, 4);
    assert_string_equal(warnings[0], "t.cfg:18: vif: item 3: model is ignored by pvkit");
    assert_string_equal(warnings[1], "t.cfg:18: vif: item 3: script is ignored by pvkit");
    assert_string_equal(warnings[2], "t.cfg:18: vif: item 3: unrecognized option colour");
    assert_string_equal(warnings[3], "t.cfg:20: cpus: unknown key, ignored");
    domcfg_free(&dc);

    assert_int_equal(domcfg_of("name='a'\nkernel='k'\ncmdline='c'\nroot='/dev/x'\n", &dc), 0);
    assert_string_equal(dc.cmdline, "c");
    assert_int_equal(nr_warnings, 1);
    assert_string_equal(warnings[0], "t.cfg:4: root: ignoring root= and extra= in favour of cmdline=");
    domcfg_free(&dc);
}

/* A table like test_syntax_errors' (text, message) for another layer: the rows differ, the shape is the point. */
static void test_domcfg_errors(void **state)
{
    static const struct { const char *text, *want; } cases[] = {
        { "kernel='k'\n", "name: a domain name must be given" },
        { "name=''\nkernel='k'\n", "t.cfg:1: name: must be 1 to 63 characters" },
        { "name='123'\nkernel='k'\n", "t.cfg:1: name: \"123\" is all digits, which would read as a domain id" },
        { "name='a/b'\nkernel='k'\n", "t.cfg:1: name: \"a/b\": only printable characters other than '/' and space" },
        { "name='a b'\nkernel='k'\n", "t.cfg:1: name: \"a b\": only printable characters other than '/' and space" },
        /* A line end in the value (an escape) is shown as '?': the message stays one line. */
        { "name='a\\nb'\nkernel='k'\n", "t.cfg:1: name: \"a?b\": only printable characters other than '/' and space" },
        { "name=['a']\nkernel='k'\n", "t.cfg:1: name: is a list but should be a single value" },
        /* root unreadable: nothing uninitialised is freed (found by fuzz_cfg). */
        { "name='a'\nkernel='k'\nroot=[1]\n", "t.cfg:3: root: is a list but should be a single value" },
        { "name='a'\n", "kernel: a kernel must be given" },
        { "name='a'\nkernel='k'\ntype='hvm'\n", "t.cfg:3: type: \"hvm\": pvkit builds only PV domains (type = \"pv\")" },
        { "name='a'\nkernel='k'\nbuilder='hvm'\n", "t.cfg:3: builder: \"hvm\": pvkit builds only PV domains (builder = \"linux\")" },
        { "name='a'\nkernel='k'\nmemory=0\n", "t.cfg:3: memory: 0 is out of range (1 to 1048576)" },
        { "name='a'\nkernel='k'\nmemory=64\nmaxmem=32\n", "t.cfg:4: maxmem: 32 MiB is less than memory (64 MiB)" },
        { "name='a'\nkernel='k'\nvcpus=9\n", "t.cfg:3: vcpus: 9 is out of range (1 to 8)" },
        { "name='a'\nkernel='k'\nvcpus=4\nmaxvcpus=2\n", "t.cfg:4: maxvcpus: 2 is less than vcpus (4)" },
        { "name='a'\nkernel='k'\non_crash='explode'\n", "t.cfg:3: on_crash: unknown action \"explode\" (destroy, restart or preserve)" },
        { "name='a'\nkernel='k'\non_reboot='rename-restart'\n", "t.cfg:3: on_reboot: action \"rename-restart\" is not supported by pvkit (destroy, restart or preserve)" },
        { "name='a'\nkernel='k'\ndisk='/a,,xvda'\n", "t.cfg:3: disk: is a single value but should be a list" },
        { "name='a'\nkernel='k'\ndisk=['/a']\n", "t.cfg:3: disk: item 1: no vdev (xvda, ...)" },
        { "name='a'\nkernel='k'\ndisk=[',,xvda']\n", "t.cfg:3: disk: item 1: no target (image file or device)" },
        { "name='a'\nkernel='k'\ndisk=['/a,qcow2,xvda']\n", "t.cfg:3: disk: item 1: format qcow2: pvkit's blkback serves raw images only" },
        { "name='a'\nkernel='k'\ndisk=['tap:qcow2:/a,xvda,w']\n", "t.cfg:3: disk: item 1: target prefix \"tap:\": pvkit's blkback serves raw images and block devices only" },
        { "name='a'\nkernel='k'\ndisk=['/a,,xvdc,devtype=floppy']\n", "t.cfg:3: disk: item 1: devtype=floppy is not supported by pvkit" },
        { "name='a'\nkernel='k'\ndisk=['/a,raw,floppy']\n", "t.cfg:3: disk: item 1: vdev \"floppy\" is not xvdX, hdX or sdX" },
        { "name='a'\nkernel='k'\ndisk=['/a,raw,xvda,rwx']\n", "t.cfg:3: disk: item 1: access \"rwx\" is not ro or rw" },
        { "name='a'\nkernel='k'\ndisk=['/a,raw,xvda,rw,extra']\n", "t.cfg:3: disk: item 1: too many positional parameters (near \"extra\")" },
        { "name='a'\nkernel='k'\ndisk=['/a,vdev=xvda,vdev=xvdb']\n", "t.cfg:3: disk: item 1: vdev given twice" },
        { "name='a'\nkernel='k'\ndisk=['/a,,xvda,speed=9']\n", "t.cfg:3: disk: item 1: unknown parameter \"speed\"" },
        { "name='a'\nkernel='k'\ndisk=['/a,,xvda,backend=d3']\n", "t.cfg:3: disk: item 1: backend=d3 is not supported by pvkit" },
        { "name='a'\nkernel='k'\ndisk=['/a,,xvda','/b,,xvda']\n", "t.cfg:3: disk: items 1 and 2 both use vdev xvda" },
        { "name='a'\nkernel='k'\nvif=['mac=00:16:3e:01:02']\n", "t.cfg:3: vif: item 1: mac \"00:16:3e:01:02\" is not xx:xx:xx:xx:xx:xx" },
        { "name='a'\nkernel='k'\nvif=['mac=01:16:3e:01:02:03']\n", "t.cfg:3: vif: item 1: mac 01:16:3e:01:02:03 is a multicast address" },
        { "name='a'\nkernel='k'\nvif=['bridge']\n", "t.cfg:3: vif: item 1: \"bridge\" is not KEY=VALUE" },
        { "name='a'\nkernel='k'\nvif=['backend=dom7']\n", "t.cfg:3: vif: item 1: backend dom7: pvkit's backends run in domain 0" },
    };
    struct domcfg dc;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        assert_int_equal(domcfg_of(cases[i].text, &dc), -EINVAL);
        assert_string_equal(err, cases[i].want);
        assert_null(dc.name); /* all or nothing */
        assert_int_equal(dc.nr_disks, 0);
        assert_int_equal(dc.nr_vifs, 0);
    }
}

static void test_domcfg_bootloader(void **state)
{
    static const char *const ok_paths[] = { "pygrub", "/usr/bin/pygrub", "/usr/lib/xen/bin/pygrub" };
    struct domcfg dc;

    (void)state;
    for (size_t i = 0; i < sizeof(ok_paths) / sizeof(*ok_paths); i++) {
        char text[256];
        snprintf(text, sizeof(text), "name='g'\nbootloader='%s'\n"
                 "disk=['file:/img/g.img,xvda,w']\nroot='/dev/xvda1'\n", ok_paths[i]);
        assert_int_equal(domcfg_of(text, &dc), 0);
        assert_string_equal(dc.bootloader, ok_paths[i]);
        assert_null(dc.kernel);
        assert_null(dc.bootloader_entry);
        assert_string_equal(dc.cmdline, "root=/dev/xvda1"); /* pygrub's --args */
        assert_int_equal(nr_warnings, 0);
        domcfg_free(&dc);
    }
    /* pygrub's options, "--entry N" as two items; --args replaces the config's */
    assert_int_equal(domcfg_of("name='g'\nbootloader='pygrub'\ndisk=['/img/g,,xvda']\n"
                               "extra='console=hvc0'\nkernel='/boot/vmlinuz'\n"
                               "bootloader_args=['-q', '--entry', '1>0', '--ramdisk=/boot/i',\n"
                               "  '--args=quiet', '--colour=blue']\n", &dc), 0);
    assert_string_equal(dc.bootloader_entry, "1>0");
    assert_string_equal(dc.kernel, "/boot/vmlinuz");
    assert_string_equal(dc.ramdisk, "/boot/i");
    assert_string_equal(dc.cmdline, "quiet");
    assert_int_equal(nr_warnings, 1);
    assert_string_equal(warnings[0], "t.cfg:6: bootloader_args: --colour=blue is ignored by "
                        "pvkit's pygrub");
    domcfg_free(&dc);
    /* xl's deprecated string form */
    assert_int_equal(domcfg_of("name='g'\nbootloader='pygrub'\ndisk=['/img/g,,xvda']\n"
                               "bootloader_args='--entry=Debian  -q'\n", &dc), 0);
    assert_string_equal(dc.bootloader_entry, "Debian");
    assert_int_equal(nr_warnings, 1);
    assert_string_equal(warnings[0], "t.cfg:4: bootloader_args: a string is deprecated, use a "
                        "list of arguments");
    domcfg_free(&dc);
    /* bootloader_args alone: ignored, with a warning */
    assert_int_equal(domcfg_of("name='g'\nkernel='k'\nbootloader_args=['--entry=1']\n", &dc), 0);
    assert_null(dc.bootloader_entry);
    assert_string_equal(warnings[0], "t.cfg:3: bootloader_args: ignored without bootloader");
    domcfg_free(&dc);

    static const struct { const char *text, *want; } bad[] = {
        { "name='g'\nbootloader='pygrub'\n",
          "t.cfg:2: bootloader: pygrub needs a disk to read (disk = [ ... ])" },
        { "name='g'\nbootloader='/usr/lib/grub'\ndisk=['/a,,xvda']\n",
          "t.cfg:2: bootloader: \"/usr/lib/grub\": pvkit has only its built-in pygrub "
          "(bootloader = \"pygrub\")" },
        { "name='g'\nbootloader='pygrub'\ndisk=['/a,,xvda']\nbootloader_args=['--entry']\n",
          "t.cfg:4: bootloader_args: --entry needs a value" },
        { "name='g'\nbootloader=['pygrub']\ndisk=['/a,,xvda']\n",
          "t.cfg:2: bootloader: is a list but should be a single value" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(domcfg_of(bad[i].text, &dc), -EINVAL);
        assert_string_equal(err, bad[i].want);
        assert_null(dc.name);
        assert_null(dc.bootloader);
    }
}

/* Every prefix of a valid file, and random bytes, parse or fail cleanly. */
static void test_hostile_text(void **state)
{
    static const char text[] =
        "name = 'web'\nmemory = 0x10 ; vif = [ 'mac=00:16:3e:00:00:01', ]\n"
        "extra = \"a\\tb\\x41\" # c\ndisk = [ [ '1' ], \"2\" ]\nx += 'y'\n";
    static const char alphabet[] = "ab=[],'\"\\ \n;#+x0";
    char buf[256];
    struct cfg c;
    unsigned int seed = 1;

    (void)state;
    for (size_t n = 0; n <= sizeof(text) - 1; n++) {
        cfg_init(&c);
        int rc = cfg_parse(&c, text, n, "t.cfg", err);
        assert_true(rc == 0 || rc == -EINVAL);
        cfg_free(&c);
    }
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)rand_r(&seed) % sizeof(buf);
        for (size_t j = 0; j < n; j++)
            buf[j] = alphabet[(size_t)rand_r(&seed) % sizeof(alphabet)]; /* NUL too */
        cfg_init(&c);
        int rc = cfg_parse(&c, buf, n, "t.cfg", err);
        assert_true(rc == 0 || rc == -EINVAL);
        assert_true(strlen(err) < CFG_ERR_MAX);
        cfg_free(&c);
    }
}

/* The numbers xl gives vdevs (libxl__device_disk_dev_number), and the refusals. */
static void test_vdev_number(void **state)
{
    static const struct { const char *vdev; long want; } cases[] = {
        { "xvda", 51712 }, { "xvdb", 51728 }, { "xvda1", 51713 }, { "xvdp15", 51967 },
        { "xvdq", (1L << 28) | (16 << 8) }, { "xvdaa", (1L << 28) | (26 << 8) },
        { "xvdq300", -EINVAL }, { "hda", 768 }, { "hdb", 832 }, { "hdc", 5632 }, { "hdd1", 5697 },
        { "hde", -EINVAL }, { "sda", 2048 }, { "sdb2", 2066 }, { "sdq", -EINVAL },
        { "xvd", -EINVAL }, { "xvdA", -EINVAL }, { "xvda01", -EINVAL }, { "vda", -EINVAL },
        { "xvda-1", -EINVAL }, { "xvdzzzzzzzzzzzzzzzzzzzz", -EINVAL },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        assert_int_equal(devices_vdev_number(cases[i].vdev), cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_override_and_append),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_domcfg_defaults),
        cmocka_unit_test(test_domcfg_full),
        cmocka_unit_test(test_domcfg_errors),
        cmocka_unit_test(test_vdev_number),
        cmocka_unit_test(test_domcfg_bootloader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
