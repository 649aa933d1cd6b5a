# Make fragment: integration boots (included by the top-level Makefile).
# check-grub boots the hypervisor from a GRUB rescue ISO through multiboot2;
# check-foreign-kernels boots a PV kernel this project did not write (GRUB's
# Xen PV image) and compares with Xen 4.17. Only INTEG_-prefixed variables.

INTEG_DIR := tests/integration

.PHONY: check-grub check-foreign-kernels
check: check-grub check-foreign-kernels

check-grub: $(BUILD)/pvkit.elf guests
	$(INTEG_DIR)/grub-multiboot2.sh

check-foreign-kernels: $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(INTEG_DIR)/foreign-kernels.sh
