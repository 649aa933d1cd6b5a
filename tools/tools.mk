# Make fragment for the launcher and the reference-Xen fetcher (included by
# the top-level Makefile, which sets BUILD). `make tools` installs
# tools/pvkit-run as $(BUILD)/bin/pvkit-run; `make fetch-xen` puts real
# Xen 4.17 at $(BUILD)/xen/xen (tools/fetch-xen, once: the image is never
# refetched while it exists); `make run` boots Linux on pvkit,
# `make run-hello` the default test guest. Only TOOLS_-prefixed variables.

TOOLS_DIR       := tools
TOOLS_BIN       := $(BUILD)/bin
TOOLS_RUN_GUEST := $(BUILD)/guests/hello.elf

.PHONY: tools run run-hello fetch-xen check-toolstack
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

# The toolstack's xl.cfg reader (tools/pvkit/cfg.c, domcfg.c) under cmocka,
# ASan and UBSan: `make check-toolstack` (part of `make check`).
TOOLS_PVKIT_SRCS := $(TOOLS_DIR)/pvkit/cfg.c $(TOOLS_DIR)/pvkit/domcfg.c
TOOLS_UNIT_TEST  := $(BUILD)/unit/toolstack/test_cfg
check: check-toolstack

$(TOOLS_UNIT_TEST): tests/unit/toolstack/test_cfg.c $(TOOLS_PVKIT_SRCS) $(wildcard $(TOOLS_DIR)/pvkit/*.h)
	@mkdir -p $(@D)
	gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer -I$(TOOLS_DIR)/pvkit \
	    -o $@ $< $(TOOLS_PVKIT_SRCS) -lcmocka

# pvkit-consoled's ring and log-name logic (tools/pvkit/cons.c), same flags.
TOOLS_CONS_TEST := $(BUILD)/unit/toolstack/test_cons
$(TOOLS_CONS_TEST): tests/unit/toolstack/test_cons.c $(TOOLS_DIR)/pvkit/cons.c $(TOOLS_DIR)/pvkit/cons.h
	@mkdir -p $(@D)
	gcc -std=gnu11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer -I$(TOOLS_DIR)/pvkit \
	    -o $@ $< $(TOOLS_DIR)/pvkit/cons.c -lcmocka

check-toolstack: $(TOOLS_UNIT_TEST) $(TOOLS_CONS_TEST)
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_UNIT_TEST)
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_CONS_TEST)
