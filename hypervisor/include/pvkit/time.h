/*
 * Time: the TSC, calibrated once at boot, is the clock. System time is
 * nanoseconds since boot; guests compute it themselves from the TSC with the
 * pvclock parameters we publish (vcpu_time_info). One-shot hypervisor timers
 * run on each CPU's local APIC timer (TSC-deadline mode when the CPU has it).
 */
#ifndef PVKIT_TIME_H
#define PVKIT_TIME_H

#include "pvkit/lib.h"

#define TIMER_VECTOR    0xf0
#define SPURIOUS_VECTOR 0xff

/* Calibrates the TSC and the APIC timer, reads the wall clock, enables the APIC. */
void time_init(void);
/* Nanoseconds since boot. */
uint64_t system_time_ns(void);
/* The TSC's rate, measured at boot (Hz). */
uint64_t time_tsc_hz(void);
/* The pvclock scale: ns = ((tsc_delta << shift or >> -shift) * mul) >> 32. */
void time_scale(uint32_t *mul, int8_t *shift);
/* The wall-clock time at system time 0 (seconds, ns). */
void time_boot_wallclock(uint32_t *sec, uint32_t *nsec);
/* Sets the wall clock: it was secs.nsecs at system time system_time (ns). */
void time_set_wallclock(uint64_t secs, uint32_t nsecs, uint64_t system_time);
/* Arms the APIC timer to fire at system time `deadline_ns` (0: disarm). */
void timer_program(uint64_t deadline_ns);
/* How many times the APIC timer was programmed (statistics). */
uint64_t timer_program_count(void);
/* Acknowledges the current APIC interrupt. */
void apic_eoi(void);
/* Enables this CPU's local APIC and its timer (application processors). */
void apic_init_cpu(void);
/* This CPU's local APIC ID. */
uint32_t apic_self_id(void);
/* Writes the interrupt command register: an IPI to the CPU with this APIC ID. */
void apic_send_ipi(uint32_t apic_id, uint32_t icr_low);

#endif
