# Make fragment for the launcher and the reference-Xen fetcher (included by
# the top-level Makefile, which sets BUILD). `make tools` installs
# tools/pvkit-run as $(BUILD)/bin/pvkit-run; `make fetch-xen` puts real
# Xen 4.17 at $(BUILD)/xen/xen (tools/fetch-xen, once: the image is never
# refetched while it exists); `make run` boots Linux on pvkit,
# `make run-hello` the default test guest. Only TOOLS_-prefixed variables.

TOOLS_DIR       := tools
TOOLS_BIN       := $(BUILD)/bin
TOOLS_RUN_GUEST := $(BUILD)/guests/hello.elf

.PHONY: tools run run-hello fetch-xen
all: tools

tools: $(TOOLS_BIN)/pvkit-run

$(TOOLS_BIN)/pvkit-run: $(TOOLS_DIR)/pvkit-run
	@mkdir -p $(@D)
	install -m 755 $< $@

fetch-xen: $(BUILD)/xen/xen

$(BUILD)/xen/xen:
	@mkdir -p $(BUILD)
	$(TOOLS_DIR)/fetch-xen $(BUILD)

# `make run` boots Debian's Linux to a busybox shell (run-linux, in
# tests/integration/linux.mk); `make run-hello` boots the hello test kernel.
run: run-linux

run-hello: $(BUILD)/pvkit.elf $(TOOLS_BIN)/pvkit-run $(TOOLS_RUN_GUEST)
	$(TOOLS_BIN)/pvkit-run --kernel $(TOOLS_RUN_GUEST) --cmdline "make run-hello"
