# env.sh: what the driver toolkit's host checks (run.sh, cli.sh) share,
# sourced first: BUILD (required) and OUT from the environment, the
# sanitizer builds' directory SAN, the store daemon XSD, and sanitizer
# options that turn any report into a failure (status 99).
BUILD=${BUILD:?BUILD must be set}
OUT=${OUT:-$BUILD/drivers}
SAN=$OUT/san/bin
XSD=$BUILD/bin/xenstore-lite
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
