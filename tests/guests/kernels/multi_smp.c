/*
 * multi_smp (--vcpus 4 and a --domu copy with --domu-vcpus 4; pvkit only):
 * the smp_vcpus checks in two domains at once, the initial domain and a
 * domU, each bringing up 4 vCPUs (8 vCPUs on the 4 CPUs pvkit-run gives
 * QEMU). vCPU ids, IPI ports, per-vCPU timers, polls and down/up must stay
 * within each domain while the other domain's vCPUs compete for the CPUs
 * and send their own events; both verdicts must pass. The code is
 * smp_vcpus.c's, compiled again under this name so the runner can give
 * this kernel its own launcher arguments.
 */
#include "smp_vcpus.c"
