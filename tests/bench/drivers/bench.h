/*
 * bench.h: the command line shared by the split-driver benchmarks
 * (blk_bench.c, net_bench.c): a fixed number of arguments, the first the
 * frontend's domain id, the last the seconds each workload runs.
 */
#ifndef PVKIT_BENCH_DRIVERS_H
#define PVKIT_BENCH_DRIVERS_H

#include <stdio.h>
#include <stdlib.h>

/*
 * The seconds argument (the last) of a command line that must hold NARGS
 * arguments after the program name; prints "usage: USAGE" and exits with 1
 * when it does not.
 */
static inline double bench_seconds(int argc, char **argv, int nargs, const char *usage)
{
    if (argc != nargs + 1) {
        fprintf(stderr, "usage: %s\n", usage);
        exit(1);
    }
    return atof(argv[nargs]);
}

#endif
