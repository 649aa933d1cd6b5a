# step-lib.sh: what the dom0 checks' boot.d steps share; boot_dom0 (lib.sh)
# puts it in the image as /usr/lib/pvkit/step-lib.sh, a step sources it.
# Runs in dom0 (busybox sh).
#   ok NAME [DETAIL]    prints "RESULT NAME ok DETAIL"
#   fail NAME [DETAIL]  prints "RESULT NAME fail DETAIL"
#   clog DOMAIN         DOMAIN's console log (pvkit-consoled's), CRs dropped
#   free_mem            the hypervisor's free memory, as `pvkit info` says
#   mkimg NAME MIB      a sparse disk image /var/lib/pvkit/NAME.img of MIB MiB

ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
clog() { tr -d '\r' </var/log/pvkit/console/$1.log 2>/dev/null; }
free_mem() { pvkit info | sed -n 's/^free_memory *: //p'; }
mkimg() { mkdir -p /var/lib/pvkit && dd if=/dev/zero of=/var/lib/pvkit/$1.img bs=1M count=0 seek=$2 2>/dev/null; }
