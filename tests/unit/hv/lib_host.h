/*
 * The renamed libc-clashing functions of hypervisor/common/lib.c (see
 * lib_host.c). Including this header makes the names memcpy, strlen, ...
 * refer to the pvkit_ versions in the including file, so include it only
 * from lib_host.c and test_lib.c, after any system header.
 */
#ifndef PVKIT_LIB_HOST_H
#define PVKIT_LIB_HOST_H

#define memcpy    pvkit_memcpy
#define memmove   pvkit_memmove
#define memset    pvkit_memset
#define memcmp    pvkit_memcmp
#define strlen    pvkit_strlen
#define strnlen   pvkit_strnlen
#define strcmp    pvkit_strcmp
#define strncmp   pvkit_strncmp
#define strchr    pvkit_strchr
#define vsnprintf pvkit_vsnprintf
#define snprintf  pvkit_snprintf

#include "pvkit/lib.h"

#endif
