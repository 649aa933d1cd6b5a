/*
 * libFuzzer target for the boot loader's image parsing: the input is a
 * whole disk image, read through bootloader_load (partition table, ext2/3/4,
 * boot config, kernel and initrd) once for the default entry and once
 * for an entry of a submenu. A crash, a sanitizer report, a leak or a
 * timeout is a bug; an error return is the expected answer to most inputs.
 * Seeds: the small images tests/unit/toolstack/mkbootimages.sh makes.
 */
#include <stdint.h>
#include <string.h>

#include "bootloader.h"

struct mem { const uint8_t *data; };

static int mem_read(void *arg, uint64_t off, void *buf, size_t len)
{
    memcpy(buf, ((struct mem *)arg)->data + off, len); /* disk_read checked the range */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem m = { data };
    struct disk_src d = { .read = mem_read, .arg = &m, .size = size };
    static const struct boot_request reqs[] = { { .args = "console=hvc0" }, { .entry = "1>0" } };
    struct boot_choice c;
    char err[BOOT_ERR_MAX];

    for (size_t i = 0; i < sizeof(reqs) / sizeof(*reqs); i++)
        if (bootloader_load(&d, &reqs[i], &c, err) == 0)
            boot_choice_free(&c);
    return 0;
}
