#!/bin/bash
# expected.sh: prints, as shell assignments, the values the guest workload
# (workload.sh) must reproduce, computed on the host with GNU tools and the
# host build of pvstress: PIPE_MD5 (seq 1 100000 | sort -r) and
# TMPFS_SHA256 (pvstress pattern 1 256). Usage: expected.sh PVSTRESS
set -euo pipefail
[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: expected.sh PVSTRESS" >&2; exit 2; }
export LC_ALL=C
pipe=$(seq 1 100000 | sort -r | md5sum | cut -d' ' -f1)
tmpfs=$("$1" pattern 1 256 | sha256sum | cut -d' ' -f1)
echo "PIPE_MD5=$pipe"
echo "TMPFS_SHA256=$tmpfs"
