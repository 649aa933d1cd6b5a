# Hypervisor build: freestanding x86-64, linked at its direct-map address,
# wrapped into an ELF32 multiboot image that QEMU -kernel and GRUB both load.

HV_SRC_C := $(wildcard hypervisor/common/*.c hypervisor/mm/*.c hypervisor/arch/x86/*.c)
HV_SRC_S := $(wildcard hypervisor/arch/x86/*.S)
HV_OBJ   := $(patsubst hypervisor/%,$(BUILD)/hv/%.o,$(HV_SRC_C) $(HV_SRC_S))
HV_CHANGESET := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

XEN_INTERFACE := -D__XEN_INTERFACE_VERSION__=0x00040e00
HV_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
	-fno-stack-protector -fpie -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer -fno-common \
	-Ihypervisor/include $(XEN_INTERFACE) -MMD -MP
HV_ASFLAGS := -Ihypervisor/include -D__ASSEMBLY__ -MMD -MP

.PHONY: hypervisor
all: hypervisor
hypervisor: $(BUILD)/pvkit.elf

$(BUILD)/hv/%.c.o: hypervisor/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(HV_CFLAGS) -c $< -o $@

$(BUILD)/hv/common/version.c.o: HV_CFLAGS += -DPVKIT_CHANGESET='"$(HV_CHANGESET)"'

$(BUILD)/hv/%.S.o: hypervisor/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(HV_ASFLAGS) -c $< -o $@

# The 64-bit image with symbols (for gdb), linked at its high address.
$(BUILD)/pvkit-syms.elf: $(HV_OBJ) hypervisor/arch/x86/linker.ld
	$(LD) -nostdlib -static --no-dynamic-linker -z max-page-size=4096 -z noexecstack \
		-T hypervisor/arch/x86/linker.ld -o $@ $(HV_OBJ)

# Boot loaders want a 32-bit ELF whose segments sit at physical addresses:
# flatten the image and re-wrap it, with the entry at start32's physical address.
$(BUILD)/pvkit.elf: $(BUILD)/pvkit-syms.elf hypervisor/tools/wrap-elf32.sh
	bash hypervisor/tools/wrap-elf32.sh $< $@

-include $(HV_OBJ:.o=.d)
