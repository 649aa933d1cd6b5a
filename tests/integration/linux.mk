# Make fragment: Debian Linux as a PV guest of pvkit (issue 5). Included by
# the top-level Makefile after tools/tools.mk. Only LINUX_-prefixed variables
# (LINUX_ABI comes from tools/linux-version.mk, the one place the kernel
# version is pinned).
#
#   make linux-kernels      fetch Debian's cloud and generic kernels into
#                           build/linux/ (apt-get download, idempotent)
#   make run-linux          boot the cloud kernel on pvkit with the busybox
#                           initramfs: an interactive shell on hvc0 ('exit'
#                           powers off); LINUX_RUN_KERNEL=generic for the
#                           generic kernel, LINUX_RUN_VCPUS, LINUX_RUN_MEM,
#                           LINUX_CMDLINE_EXTRA="..." to add kernel options
#   make check-linux        the issue-5 tests: workload on the cloud kernel,
#                           on the generic kernel, with 2 vCPUs, with 4 vCPUs
#                           on 2 QEMU CPUs, in 128 MiB and 2 GiB domains, a
#                           panicking guest reported as crashed, reboot status,
#                           commands typed at the interactive shell
#   make check-linux-pvh    the cloud kernel as a PVH domU (issue 18, on
#                           QEMU's EPYC model: SVM with nested paging) boots
#                           to /init, runs a payload and reboots; and panics
#                           (rdinit=/nonexistent) reported as crashed (part
#                           of `make check`); check-linux-pvh-generic the
#                           same reboot run on the generic kernel;
#                           check-linux-pvh-smp the workload on the cloud
#                           kernel as a two-vCPU PVH domU (its application
#                           processor started by INIT/SIPI; nproc = 2;
#                           part of `make check-all`)
#   make check-linux-dom0   the workload on the generic kernel as the initial,
#                           privileged domain (dom0: SIF_INITDOMAIN, the
#                           machine memory map, console_io; part of `make check`)
#   make check-linux-quick  the cloud-kernel workload and the panic variant
#   make check-linux-tools  host-only tests of extract-pv-elf, mkinitramfs and
#                           pvkit-run's bzImage handling (part of `make check`)
#   make check-linux-fallback  tools/linux-kernels with a pin Debian does not
#                           have falls back to the current cloud kernel, says
#                           so in one line, and make's targets follow it
#                           (part of `make check`; the .deb is kept in
#                           build/linux-fallback-test/ for the next run)
# The boots are not yet part of `make check`: add `check: check-linux` once
# they pass on every machine that runs it.

include tools/linux-version.mk

LINUX_DIR      := tests/integration/linux
# make has built the hypervisor and the tools already (and fetched the
# kernels), so parallel runners (make -j) do not build concurrently.
LINUX_RUNNER   := $(LINUX_DIR)/run-workload.sh --no-build
LINUX_BUILD    := $(BUILD)/linux
# The symlinks tools/linux-kernels points at the kernel it fetched: the
# pinned LINUX_ABI, or the current one when Debian has dropped the pin. It
# touches the image, so a bumped pin (a newer linux-version.mk) refetches.
LINUX_CLOUD    := $(LINUX_BUILD)/vmlinuz-cloud-amd64
LINUX_GENERIC  := $(LINUX_BUILD)/vmlinuz-amd64
LINUX_RUN_KERNEL ?= cloud
LINUX_RUN_VCPUS  ?= 1
LINUX_RUN_MEM    ?= 256

.PHONY: linux-kernels run-linux check-linux check-linux-quick \
        check-linux-cloud check-linux-generic check-linux-smp \
        check-linux-smp4 check-linux-mem128 check-linux-mem2g \
        check-linux-panic check-linux-reboot check-linux-interactive \
        check-linux-tools check-linux-fallback check-linux-dom0 \
        check-linux-pvh check-linux-pvh-reboot check-linux-pvh-panic check-linux-pvh-generic \
        check-linux-pvh-smp

check: check-linux-tools check-linux-fallback check-linux-cloud check-linux-smp check-linux-panic \
       check-linux-dom0 check-linux-pvh
# The two-vCPU PVH workload: too long for `make check`.
check-all: check-linux-pvh-smp

tools: $(TOOLS_BIN)/extract-pv-elf

$(TOOLS_BIN)/extract-pv-elf: tools/extract-pv-elf
	@mkdir -p $(@D)
	install -m 755 $< $@

linux-kernels: $(LINUX_CLOUD) $(LINUX_GENERIC)

$(LINUX_CLOUD): tools/linux-version.mk
	tools/linux-kernels --build $(BUILD) cloud-amd64

$(LINUX_GENERIC): tools/linux-version.mk
	tools/linux-kernels --build $(BUILD) amd64

run-linux: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant shell --kernel $(LINUX_RUN_KERNEL) \
	    --vcpus $(LINUX_RUN_VCPUS) --mem $(LINUX_RUN_MEM)

check-linux: check-linux-cloud check-linux-generic check-linux-dom0 check-linux-smp \
             check-linux-smp4 check-linux-mem128 check-linux-mem2g \
             check-linux-panic check-linux-reboot check-linux-interactive \
             check-linux-pvh check-linux-pvh-generic check-linux-pvh-smp
check-linux-quick: check-linux-cloud check-linux-panic

check-linux-cloud: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud
check-linux-generic: $(BUILD)/pvkit.elf tools $(LINUX_GENERIC)
	$(LINUX_RUNNER) --kernel generic
# dom0 writes with console_io, so its lines carry no "(dN) " prefix.
check-linux-dom0: $(BUILD)/pvkit.elf tools $(LINUX_GENERIC)
	$(LINUX_RUNNER) --kernel generic --hv-args loglvl=info --log $(LINUX_BUILD)/workload-dom0.log
	grep -q '^RESULT uname ok' $(LINUX_BUILD)/workload-dom0.log
	grep -q '(pvkit) d0: linux kernel' $(LINUX_BUILD)/workload-dom0.log
check-linux-smp: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud --vcpus 2
check-linux-smp4: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud --vcpus 4 --qemu-cpus 2
check-linux-mem128: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud --mem 128 --cmdline-extra pvkit.mib=32
check-linux-mem2g: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud --mem 2048
check-linux-panic: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant panic --kernel cloud --mem 256
check-linux-reboot: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant reboot --kernel cloud --mem 256
check-linux-interactive: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant interactive --kernel cloud --mem 256

# PVH: the workload's phases are not all there yet (no xenstore, grant
# tables or balloon for a PVH domU; poweroff needs ACPI's FADT): the boot to
# /init and a reboot, and a panic, are what is checked.
check-linux-pvh: check-linux-pvh-reboot check-linux-pvh-panic
check-linux-pvh-reboot: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant reboot --kernel cloud --mem 256 --type pvh --timeout 600
check-linux-pvh-panic: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --variant panic --kernel cloud --mem 256 --type pvh --timeout 600
check-linux-pvh-generic: $(BUILD)/pvkit.elf tools $(LINUX_GENERIC)
	$(LINUX_RUNNER) --variant reboot --kernel generic --mem 256 --type pvh --timeout 600
check-linux-pvh-smp: $(BUILD)/pvkit.elf tools $(LINUX_CLOUD)
	$(LINUX_RUNNER) --kernel cloud --mem 256 --vcpus 2 --type pvh --timeout 900 \
	    --cmdline-extra "pvkit.forks=100 pvkit.mib=32 pvkit.churn=1000"

check-linux-tools:
	$(LINUX_DIR)/tools-test.sh

check-linux-fallback:
	$(LINUX_DIR)/kernels-fallback-test.sh $(BUILD)
