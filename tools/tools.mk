# Make fragment for the launcher and the reference-Xen fetcher (included by
# the top-level Makefile, which sets BUILD). `make tools` installs
# tools/pvkit-run as $(BUILD)/bin/pvkit-run; $(BUILD)/xen/xen is real Xen
# 4.17 from tools/fetch-xen; `make run` boots build/pvkit.elf with the
# default test guest. Only TOOLS_-prefixed variables.

TOOLS_DIR       := tools
TOOLS_BIN       := $(BUILD)/bin
TOOLS_RUN_GUEST := $(BUILD)/guests/hello.elf

.PHONY: tools run
all: tools

tools: $(TOOLS_BIN)/pvkit-run

$(TOOLS_BIN)/pvkit-run: $(TOOLS_DIR)/pvkit-run
	@mkdir -p $(@D)
	install -m 755 $< $@

$(BUILD)/xen/xen: $(TOOLS_DIR)/fetch-xen
	$(TOOLS_DIR)/fetch-xen $(BUILD)

run: $(BUILD)/pvkit.elf $(TOOLS_BIN)/pvkit-run $(TOOLS_RUN_GUEST)
	$(TOOLS_BIN)/pvkit-run --kernel $(TOOLS_RUN_GUEST) --cmdline "make run"
