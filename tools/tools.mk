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

tools: $(TOOLS_BIN)/pvkit-run $(TOOLS_BIN)/qemu-sample $(TOOLS_BIN)/insn-count.so

$(TOOLS_BIN)/pvkit-run: $(TOOLS_DIR)/pvkit-run
	@mkdir -p $(@D)
	install -m 755 $< $@

# The sampling profiler (tools/qemu-sample.c): QEMU's monitor asked for every
# CPU's RIP at a fixed rate; tools/profile-report names the functions.
$(TOOLS_BIN)/qemu-sample: $(TOOLS_DIR)/qemu-sample.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

# The instruction counter (tools/insn-count.c), a QEMU TCG plugin;
# tools/insn-report turns its counts into a profile.
$(TOOLS_BIN)/insn-count.so: $(TOOLS_DIR)/insn-count.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

fetch-xen: $(BUILD)/xen/xen

$(BUILD)/xen/xen:
	@mkdir -p $(BUILD)
	$(TOOLS_DIR)/fetch-xen $(BUILD)

# `make run` boots Debian's Linux to a busybox shell (run-linux, in
# tests/integration/linux.mk); `make run-hello` boots the hello test kernel.
run: run-linux

run-hello: $(BUILD)/pvkit.elf $(TOOLS_BIN)/pvkit-run $(TOOLS_RUN_GUEST)
	$(TOOLS_BIN)/pvkit-run --kernel $(TOOLS_RUN_GUEST) --cmdline "make run-hello"

# The toolstack (tools/pvkit/): `pvkit`, built statically for the dom0
# image ($(BUILD)/bin/pvkit, with Debian's libxenstore, libxencall,
# liblzma and zlib archives) and for the host under ASan and UBSan
# ($(BUILD)/unit/toolstack/pvkit-asan, for the command-line tests); the
# console daemon pvkit-consoled is backends/consoled's, built by
# backends/Makefile. Its pure parts (xl.cfg reader, arguments, domain
# naming, output formats, bzImage unpacking) are unit-tested under cmocka: `make check-toolstack`
# (part of `make check`).
TOOLS_PVKIT_DIR     := $(TOOLS_DIR)/pvkit
TOOLS_PVKIT_CMD     := $(wildcard $(TOOLS_PVKIT_DIR)/*.c)
TOOLS_PVKIT_HDRS    := $(wildcard $(TOOLS_PVKIT_DIR)/*.h) hypervisor/include/public/pvkit.h
TOOLS_PVKIT_SRCS    := $(addprefix $(TOOLS_PVKIT_DIR)/,cfg.c domcfg.c devices.c store.c util.c)
TOOLS_PVKIT_PURE    := $(addprefix $(TOOLS_PVKIT_DIR)/,cfg.c domcfg.c util.c args.c dominfo.c \
                       format.c kernel.c lz4.c)
TOOLS_PVKIT_CFLAGS  := -std=gnu11 -Wall -Wextra -Werror -I$(TOOLS_PVKIT_DIR) -Ihypervisor/include
TOOLS_PVKIT_XENLIBS := -lxenstore -lxencall -lxentoolcore -lxentoollog -llzma -lz
TOOLS_ASAN          := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
                       -fno-omit-frame-pointer
TOOLS_UNIT_TEST     := $(BUILD)/unit/toolstack/test_cfg
TOOLS_UNIT_CLI      := $(BUILD)/unit/toolstack/test_cli
TOOLS_PVKIT_ASAN    := $(BUILD)/unit/toolstack/pvkit-asan
check: check-toolstack
tools: $(TOOLS_BIN)/pvkit

$(TOOLS_BIN)/pvkit: $(TOOLS_PVKIT_CMD) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) -O2 -static -o $@ $(TOOLS_PVKIT_CMD) $(TOOLS_PVKIT_XENLIBS)

$(TOOLS_PVKIT_ASAN): $(TOOLS_PVKIT_CMD) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) $(TOOLS_ASAN) -o $@ $(TOOLS_PVKIT_CMD) $(TOOLS_PVKIT_XENLIBS)

$(TOOLS_UNIT_TEST): tests/unit/toolstack/test_cfg.c $(TOOLS_PVKIT_SRCS) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) $(TOOLS_ASAN) -o $@ $< $(TOOLS_PVKIT_SRCS) -lcmocka -lxenstore

$(TOOLS_UNIT_CLI): tests/unit/toolstack/test_cli.c $(TOOLS_PVKIT_PURE) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) $(TOOLS_ASAN) -o $@ $< $(TOOLS_PVKIT_PURE) -lcmocka -llzma -lz

# pvkit-consoled's ring and log-name logic (backends/consoled/cons.c), same flags.
TOOLS_CONS_DIR  := backends/consoled
TOOLS_CONS_TEST := $(BUILD)/unit/toolstack/test_cons
$(TOOLS_CONS_TEST): tests/unit/toolstack/test_cons.c $(TOOLS_CONS_DIR)/cons.c $(TOOLS_CONS_DIR)/cons.h
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) -I$(TOOLS_CONS_DIR) $(TOOLS_ASAN) -o $@ $< $(TOOLS_CONS_DIR)/cons.c -lcmocka

# The boot loader (bootloader.c and the partition/extfs/bootcfg readers)
# on disk images built at test time by mkbootimages.sh (mke2fs, sfdisk,
# debugfs; no root, no mount), same flags; and its libFuzzer target over
# whole images (clang): `make fuzz-bootloader` runs it for
# TOOLS_FUZZ_SECONDS (300 by default; `make check` runs it for 20).
TOOLS_BOOT_SRCS     := $(addprefix $(TOOLS_PVKIT_DIR)/,bootloader.c bootcfg.c extfs.c partition.c)
TOOLS_BOOT_TEST     := $(BUILD)/unit/toolstack/test_bootloader
TOOLS_BOOT_IMAGES   := $(BUILD)/unit/toolstack/bootimg
TOOLS_BOOT_FUZZ     := $(BUILD)/fuzz/toolstack/fuzz_bootloader
TOOLS_FUZZ_SECONDS  ?= 300
$(TOOLS_BOOT_TEST): tests/unit/toolstack/test_bootloader.c $(TOOLS_BOOT_SRCS) \
                    $(TOOLS_PVKIT_DIR)/util.c $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	gcc $(TOOLS_PVKIT_CFLAGS) $(TOOLS_ASAN) -o $@ $< $(TOOLS_BOOT_SRCS) $(TOOLS_PVKIT_DIR)/util.c \
	    -lcmocka
$(TOOLS_BOOT_IMAGES)/.done: tests/unit/toolstack/mkbootimages.sh
	$< $(@D)
	touch $@
$(TOOLS_BOOT_FUZZ): tests/unit/toolstack/fuzz_bootloader.c $(TOOLS_BOOT_SRCS) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	clang $(TOOLS_PVKIT_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all $< $(TOOLS_BOOT_SRCS) $(TOOLS_PVKIT_DIR)/util.c -o $@
.PHONY: fuzz-bootloader check-fuzz-bootloader
fuzz-bootloader: $(TOOLS_BOOT_FUZZ) $(TOOLS_BOOT_IMAGES)/.done
	@mkdir -p $(BUILD)/fuzz/toolstack/corpus
	@cp -n $(TOOLS_BOOT_IMAGES)/seeds/*.img $(BUILD)/fuzz/toolstack/corpus/
	@$(TOOLS_BOOT_FUZZ) -max_total_time=$(TOOLS_FUZZ_SECONDS) -max_len=131072 -timeout=10 \
	    $(BUILD)/fuzz/toolstack/corpus >$(BUILD)/fuzz/toolstack/log 2>&1; rc=$$?; \
	    tail -n 2 $(BUILD)/fuzz/toolstack/log; exit $$rc
check-fuzz-bootloader:
	$(MAKE) fuzz-bootloader TOOLS_FUZZ_SECONDS=20
check: check-fuzz-bootloader

# The xl.cfg reader (cfg.c, domcfg.c, devices.c) under libFuzzer, same
# flags: `make fuzz-cfg` runs it for TOOLS_FUZZ_SECONDS from the seed
# configurations in tests/unit/toolstack/seeds/cfg (`make check`: 15 s).
TOOLS_CFG_FUZZ      := $(BUILD)/fuzz/toolstack/fuzz_cfg
$(TOOLS_CFG_FUZZ): tests/unit/toolstack/fuzz_cfg.c $(TOOLS_PVKIT_SRCS) $(TOOLS_PVKIT_HDRS)
	@mkdir -p $(@D)
	clang $(TOOLS_PVKIT_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all $< $(TOOLS_PVKIT_SRCS) -lxenstore -o $@
.PHONY: fuzz-cfg check-fuzz-cfg
fuzz-cfg: $(TOOLS_CFG_FUZZ)
	@mkdir -p $(BUILD)/fuzz/toolstack/corpus_cfg
	@cd $(BUILD)/fuzz/toolstack && $(TOOLS_CFG_FUZZ) -max_total_time=$(TOOLS_FUZZ_SECONDS) \
	    -max_len=4096 -timeout=10 corpus_cfg $(CURDIR)/tests/unit/toolstack/seeds/cfg \
	    >log_cfg 2>&1; rc=$$?; grep -m1 '^INFO: Seed' log_cfg; tail -n 2 log_cfg; exit $$rc
check-fuzz-cfg:
	$(MAKE) fuzz-cfg TOOLS_FUZZ_SECONDS=15
check: check-fuzz-cfg

check-toolstack: $(TOOLS_UNIT_TEST) $(TOOLS_UNIT_CLI) $(TOOLS_CONS_TEST) $(TOOLS_PVKIT_ASAN) \
                 $(TOOLS_BOOT_TEST) $(TOOLS_BOOT_IMAGES)/.done
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_BOOT_TEST) $(TOOLS_BOOT_IMAGES)
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_UNIT_TEST)
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_UNIT_CLI)
	ASAN_OPTIONS=detect_leaks=1 $(TOOLS_CONS_TEST)
	ASAN_OPTIONS=detect_leaks=1 tests/unit/toolstack/cli-test.sh $(TOOLS_PVKIT_ASAN) $(TOOLS_BOOT_IMAGES)
