# Make fragment: integration boots (included by the top-level Makefile).
# check-grub boots the hypervisor from a GRUB rescue ISO through multiboot2.
# Only INTEG_-prefixed variables.

INTEG_DIR := tests/integration

.PHONY: check-grub
check: check-grub

check-grub: $(BUILD)/pvkit.elf guests
	$(INTEG_DIR)/grub-multiboot2.sh
