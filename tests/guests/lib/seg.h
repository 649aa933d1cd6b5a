/*
 * Reading through the FS and GS segment bases, for the kernels that set
 * them (set_segment_base, WRMSR to the base MSRs, SWAPGS): what a load at
 * offset 0 of each segment returns shows the base the CPU really uses.
 */
#ifndef GUEST_SEG_H
#define GUEST_SEG_H

#include <stdint.h>

/* The quadword at offset 0 of segment SEG, "fs" or "gs". */
#define SEG_READ0(seg) ({                                       \
    uint64_t v_;                                                \
    __asm__ volatile("mov %%" seg ":0, %0" : "=r"(v_));         \
    v_;                                                         \
})

/* The quadwords at %fs:0 and %gs:0. */
static inline uint64_t read_fs0(void) { return SEG_READ0("fs"); }
static inline uint64_t read_gs0(void) { return SEG_READ0("gs"); }

#endif
