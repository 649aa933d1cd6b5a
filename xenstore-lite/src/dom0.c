/*
 * dom0: reading xenfs's xsd_port and mapping its xsd_kva (see dom0.h).
 * Paths longer than the buffers below are refused with -ENAMETOOLONG.
 */
#include "dom0.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define DOM0_PAGE 4096

/* Write dir/name into buf[256]. 0 or -ENAMETOOLONG. */
static int dom0_path(char *buf, const char *dir, const char *name)
{
	return snprintf(buf, 256, "%s/%s", dir, name) >= 256 ? -ENAMETOOLONG : 0;
}

bool dom0_present(const char *xenfs_dir)
{
	char kva[256];

	return dom0_path(kva, xenfs_dir, "xsd_kva") == 0 && access(kva, F_OK) == 0;
}

int dom0_port(const char *xenfs_dir, unsigned *port)
{
	char path[256], buf[32], *end;
	unsigned long v;
	ssize_t n;
	int fd, err;

	if ((err = dom0_path(path, xenfs_dir, "xsd_port")))
		return err;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (end == buf || errno || (*end && *end != '\n') || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

int dom0_map(const char *xenfs_dir, struct xenstore_domain_interface **intf)
{
	char path[256];
	void *p;
	int fd, err;

	if ((err = dom0_path(path, xenfs_dir, "xsd_kva")))
		return err;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	p = mmap(NULL, DOM0_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	*intf = p;
	return 0;
}

void dom0_unmap(struct xenstore_domain_interface *intf)
{
	munmap(intf, DOM0_PAGE);
}
