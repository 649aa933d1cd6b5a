/*
 * Builds hypervisor/common/lib.c for the host test binaries.
 *
 * lib.c defines memcpy, strlen, snprintf and friends under their C library
 * names, because the hypervisor has no C library. Linked as is into a host
 * program they would replace glibc's (and ASan's interceptors), so every
 * libc-named function is renamed here with a pvkit_ prefix before lib.c is
 * included unchanged. The tests of lib.c call the pvkit_ names (declared in
 * lib_host.h); the other units' code keeps calling the C library, which is
 * what it would get from lib.c anyway. parse_u64 and strlcpy have no glibc
 * counterpart on Debian 12 and keep their names, so cmdline.c and
 * multiboot.c use the real hypervisor implementations.
 *
 * -fno-builtin (set by unit.mk for this file) stops the compiler from turning
 * the byte loops back into calls to the C library's memcpy/memset.
 */
#include "lib_host.h"
#include "../../../hypervisor/common/lib.c"
