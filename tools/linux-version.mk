# The Debian Linux kernels pvkit boots (issue 5), pinned in this one place.
# Read by make (tests/integration/linux.mk includes it) and by bash
# (tools/linux-kernels sources it), so keep it to plain NAME=value lines:
# no spaces around '=', no quotes, no make functions.
#
# LINUX_ABI is Debian's kernel ABI name: the packages are
# linux-image-$(LINUX_ABI)-cloud-amd64 (domU only: no XEN_DOM0) and
# linux-image-$(LINUX_ABI)-amd64 (generic, can be dom0). When this ABI has
# left the archive, tools/linux-kernels falls back to the one the
# linux-image-cloud-amd64 / linux-image-amd64 metapackages depend on and
# says so on stderr; bump the line below then.
LINUX_ABI=6.1.0-56

# The Debian source package of that kernel the research kernel's patch
# series (guest-linux-patches/) is made against: linux-source-6.1's version
# (tools/research-kernel says so when another one is installed).
LINUX_SOURCE_VERSION=6.1.192-3
