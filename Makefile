# ttftshim — see README.md. `make` builds, `make test` runs the tests,
# `make demo` runs the main job against the embedded llama-server.
CC ?= cc
WERROR ?= -Werror
CFLAGS ?= -O2 -g
SHIM_CFLAGS ?= $(CFLAGS)
# The shim is built whole-program (its traced paths cross several files:
# wrapper, sniffer, classifier, log); docs/performance.md.
SHIM_LTO ?= -flto=auto
LDFLAGS ?=
BASEFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -MMD -MP
PKGS := libcurl libcjson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcjson)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

B := build
space := $(subst ,, )
# The layers (docs/layout.md): shim/core ← tools/lib ← probe ← programs.
HTTP_SRC := shim/core/ttft_http.c shim/core/ttft_http_tx.c shim/core/ttft_http_frame.c \
	shim/core/ttft_http_status.c
CORE_SRC := shim/core/ttft_log.c shim/core/ttft_sse.c $(HTTP_SRC) shim/core/ttft_env.c \
	shim/core/ttft_filter.c
SHIM_SRC := $(CORE_SRC) shim/preload/ttft_shim.c shim/preload/ttft_now.c shim/preload/ttft_wrap.c \
	shim/preload/ttft_sigbus.c shim/preload/ttft_stdio.c shim/preload/ttft_ssl.c \
	shim/preload/ttft_sigmask.c shim/preload/ttft_inherit.c shim/preload/ttft_stdio_exit.c \
	shim/preload/ttft_dlquiet.c
ANALYZE_SRC := $(addprefix tools/lib/,ttft_analyze.c ttft_assemble.c ttft_output.c ttft_prom.c \
	ttft_scrape.c ttft_fetch.c ttft_record.c ttft_summary.c ttft_json.c ttft_logread.c ttft_seal.c \
	ttft_logsort.c ttft_url.c ttft_follow.c ttft_export.c ttft_httpd.c ttft_exporter.c \
	ttft_promapi.c ttft_merge.c ttft_str.c ttft_svg.c ttft_charts.c ttft_trace.c ttft_html.c \
	ttft_cli.c ttft_join.c ttft_preloadable.c ttft_sentinel.c)
INC := -Ishim/core -Ishim/preload -Itools/lib -Iprobe -Itools/cold -Itools/sweep -Itests/support \
	-I$(B)/gen

CORE_OBJ := $(CORE_SRC:%.c=$(B)/obj/%.o)
ANALYZE_OBJ := $(ANALYZE_SRC:%.c=$(B)/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(B)/pic/%.o)

PROGS := $(B)/ttft-analyze $(B)/ttft-run $(B)/ttft-probe $(B)/ttft-cold $(B)/ttft-export \
	$(B)/ttft-sweep
include tests/suites.mk
TEST_PROGS := $(addprefix $(B)/,$(UNIT_SUITES) $(E2E_SUITES)) $(B)/fixture-server $(B)/shim_host \
	$(B)/fd_host $(B)/mask_host $(B)/inherit_host $(B)/stdio_host $(B)/fortify_host $(B)/tls_two \
	$(B)/tls_again $(B)/dlerror_host $(B)/aio_host $(B)/fake_vdso.so $(B)/fork_env.so $(B)/no_pidfd.so $(B)/eintr_falloc.so

# `make`, `make test`, `make demo` (and bench, sanitize, tsan) first run
# tools/deps.sh: it finds what the goal needs and, as root, installs what is
# missing with apt-get; otherwise it prints the one `sudo apt-get install`
# line and make stops there. The goal then runs in a make that sees what was
# installed (pkg-config's answers below). TTFT_DEPS_OK=1 skips the check.
GOALS := all test demo bench sanitize tsan test-stress
ifndef TTFT_DEPS_OK
$(GOALS):
	@bash tools/deps.sh $@
	@$(MAKE) --no-print-directory TTFT_DEPS_OK=1 $@
else
all: $(B)/libttftshim.so $(PROGS)
endif

# --version: rewritten only when the version changes, so nothing rebuilds
# for nothing.
VERSION := 0.2
VERSION_H := $(B)/gen/ttft_version.h
$(VERSION_H): FORCE
	@mkdir -p $(@D)
	@v="$(VERSION) (git $$(git describe --always --dirty 2>/dev/null || echo unknown))"; \
	printf '#define TTFT_VERSION "%s"\n' "$$v" >$@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(B)/obj/tools/lib/ttft_cli.o: $(VERSION_H)
FORCE:

# The shim runs inside other programs: PIC, hidden by default (only the
# interposed functions and ttft_mark are exported), no fortify wrappers that
# would collide with the read/recv it defines.
$(B)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(SHIM_CFLAGS) $(SHIM_LTO) -fPIC -fno-plt -fno-tree-slp-vectorize -fvisibility=hidden -U_FORTIFY_SOURCE -Ishim/core -Ishim/preload -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(CFLAGS) $(INC) $(PKG_CFLAGS) $(CHECK_CFLAGS) -c $< -o $@

# The preloaded library runs inside other programs: it must not allocate or
# touch stdio (docs/shim.md). Linking fails if it imports any of these.
# The TLS taps' names carry OpenSSL's and GnuTLS's symbol versions
# (shim/preload/ttft_ssl.map).
SHIM_FORBIDDEN := malloc|calloc|realloc|reallocarray|free|strdup|strndup|posix_memalign|\
	aligned_alloc|memalign|valloc|.*printf.*|.*scanf.*|f?puts|f?putc|putc_unlocked|putchar|\
	f?getc|getchar|fgets|getline|getdelim|perror|fopen|fdopen|freopen|fclose|fflush|\
	fread|fwrite|setvbuf|setbuf|fileno|fseeko?|ftello?|rewind|tmpfile|open_memstream|\
	fmemopen|stdin|stdout|stderr|_IO_.*|__overflow|__uflow
$(B)/libttftshim.so: $(SHIM_OBJ) shim/preload/ttft_ssl.map
	$(CC) $(SHIM_CFLAGS) $(SHIM_LTO) -fPIC -fno-plt -fno-tree-slp-vectorize -shared -o $@.tmp $(SHIM_OBJ) -ldl -lpthread -Wl,-z,defs -Wl,--as-needed -lc \
		-Wl,--version-script=shim/preload/ttft_ssl.map
	@bad=$$(nm -u -D $@.tmp | awk '{print $$NF}' | sed 's/@.*//' | \
		grep -Ex '$(subst $(space),,$(SHIM_FORBIDDEN))' | tr '\n' ' '); \
	if [ -n "$$bad" ]; then \
		echo "libttftshim.so imports $$bad: no allocation and no stdio in the preloaded library (docs/shim.md)"; \
		rm -f $@.tmp; exit 1; \
	fi; mv $@.tmp $@

$(B)/libttftcore.a: $(CORE_OBJ) $(ANALYZE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/ttft-analyze: $(B)/obj/tools/ttft-analyze.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(B)/ttft-run: $(B)/obj/tools/ttft-run.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(B)/ttft-export: $(B)/obj/tools/ttft-export.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(B)/ttft-probe: $(B)/obj/probe/ttft-probe.o $(B)/obj/probe/probe_req.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -ldl

# The embedded engine (llama.cpp) and the model generator: built on demand,
# cached outside the checkout by tools/engine.sh.
ENGINE := tools/engine.sh
$(B)/ttft-mkmodel: tools/ttft-mkmodel.c $(VERSION_H)
	@mkdir -p $(B)
	@src=$$($(ENGINE) src) && lib=$$($(ENGINE) ggml) && \
	echo "$(CC) ... -o $@ (ggml from $$lib)" && \
	$(CC) $(BASEFLAGS) $(CFLAGS) -I$(B)/gen -isystem $$src/ggml/include -o $@ $< \
		-L$$lib -lggml-base -Wl,-rpath,$$lib -lm

COLD_OBJ := $(B)/obj/tools/ttft-cold.o $(addprefix $(B)/obj/tools/cold/,cold_server.o \
	cold_phases.o cold_sanity.o cold_stats.o cold_report.o cold_findings.o cold_knobs.o \
	cold_json.o cold_charts.o) $(B)/obj/probe/probe_req.o
$(B)/ttft-cold: $(COLD_OBJ) $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -ldl -lpthread

# ttft-sweep: prefix caching and KV scaling (tools/sweep/), servers started
# with ttft-cold's runner, requests by the probe's engine.
SWEEP_OBJ := $(B)/obj/tools/ttft-sweep.o $(addprefix $(B)/obj/tools/sweep/,sweep_server.o \
	sweep_prefix.o sweep_kv.o sweep_report.o) $(B)/obj/tools/cold/cold_server.o \
	$(B)/obj/tools/cold/cold_phases.o $(B)/obj/probe/probe_req.o
$(B)/ttft-sweep: $(SWEEP_OBJ) $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -ldl -lpthread

# The TLS fixture (fixture-server --tls) links OpenSSL; the shim does not.
SSL_LIBS := $(shell pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto)
$(B)/fixture-server: $(B)/obj/tests/support/fixture_server.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(SSL_LIBS) -lpthread -lm

$(B)/shim_host: $(B)/obj/tests/support/shim_host.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/fd_host: $(B)/obj/tests/support/fd_host.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/mask_host: $(B)/obj/tests/support/mask_host.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/inherit_host: $(B)/obj/tests/support/inherit_host.o
	$(CC) $(LDFLAGS) -o $@ $^

# -lrt: POSIX AIO is in libc from glibc 2.34, in librt before
$(B)/aio_host: $(B)/obj/tests/support/aio_host.o
	$(CC) $(LDFLAGS) -o $@ $^ -lrt -lpthread

$(B)/stdio_host: $(B)/obj/tests/support/stdio_host.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

# Plain flags in every build: a sanitizer's own printf interceptors are
# no part of what it tests (and drop the check it tests).
$(B)/fortify_host: tests/support/fortify_host.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -O2 -g -o $@ $<

# test_shim's host whose first call is dlerror(), and the preloaded
# double that makes the shim's vDSO lookup fail (tests/support/fake_vdso.c).
# Plain flags in every build: valgrind runs the host in the sanitizer
# builds too, and the double is no code under test.
$(B)/dlerror_host: tests/support/dlerror_host.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -O2 -g -o $@ $< -lpthread
$(B)/fake_vdso.so: tests/support/fake_vdso.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -O2 -g -fPIC -shared -o $@ $< -ldl
# test_cli's preloaded check that ttft-run's child changes no environment
# between fork and exec (tests/support/fork_env.c); plain flags likewise.
$(B)/fork_env.so: tests/support/fork_env.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -O2 -g -fPIC -shared -o $@ $< -ldl -pthread

# test_shim_log's fallocate interrupted every other call (EINTR), preloaded
# before the shim (tests/support/eintr_falloc.c)
$(B)/eintr_falloc.so: tests/support/eintr_falloc.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -O2 -g -fPIC -shared -o $@ $<

# test_shim_fd's libc without glibc 2.36's pidfd calls, preloaded after the
# shim (tests/support/no_pidfd.c)
$(B)/no_pidfd.so: tests/support/no_pidfd.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra $(WERROR) -O2 -g -fPIC -shared -o $@ $<

# test_tls's libraries: two fake libssl ABIs (OpenSSL 3's and 1.1's symbol
# versions) and the real one, each behind a caller library, and the host
# that loads all three. Plain flags: test doubles, not code under test.
FAKE := $(B)/fake-ssl
FAKE_CFLAGS := -std=c11 -Wall -Wextra $(WERROR) -O2 -g -fPIC -shared
$(FAKE)/libfakessl%.so: tests/support/fake_ssl.c
	@mkdir -p $(@D)
	printf '%s { global: SSL_read; local: *; };\n' \
		$(if $(filter 3,$*),OPENSSL_3.0.0,OPENSSL_1_1_0) > $(@D)/fake$*.map
	$(CC) $(FAKE_CFLAGS) -DFAKE_SSL_READ=$(if $(filter 3,$*),4242,1111) \
		-Wl,-soname,libfakessl$*.so -Wl,--version-script=$(@D)/fake$*.map -o $@ $<
$(FAKE)/libcallerreal.so: tests/support/fake_ssl_caller.c
	@mkdir -p $(@D)
	$(CC) $(FAKE_CFLAGS) -DREAL_OPENSSL -o $@ $< $(SSL_LIBS)
$(FAKE)/libcaller%.so: tests/support/fake_ssl_caller.c $(FAKE)/libfakessl%.so
	$(CC) $(FAKE_CFLAGS) -o $@ $< -L$(@D) -lfakessl$* \
		-Wl,-rpath,'$$ORIGIN'
$(B)/tls_two: $(B)/obj/tests/support/tls_two.o $(FAKE)/libcallerreal.so \
		$(FAKE)/libcaller3.so $(FAKE)/libcaller11.so
	$(CC) $(LDFLAGS) -o $@ $< -ldl

# test_tls's non-blocking client: OpenSSL, and GnuTLS's runtime library,
# which apt itself depends on on Debian and Ubuntu (libgnutls30, t64 on
# Ubuntu 24.04) (no headers needed: tls_again.c declares the few calls).
$(B)/tls_again: $(B)/obj/tests/support/tls_again.o
	$(CC) $(LDFLAGS) -o $@ $^ $(SSL_LIBS) -l:libgnutls.so.30

TU := $(B)/obj/tests/support/testutil.o $(B)/obj/tests/support/fixture_client.o
$(B)/test_cold: $(B)/obj/tests/e2e/test_cold.o $(TU) $(B)/obj/tools/cold/cold_phases.o \
	$(B)/obj/tools/cold/cold_server.o $(B)/obj/tools/cold/cold_knobs.o \
	$(B)/obj/tools/cold/cold_stats.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm -lpthread

# test_sweep also checks the sweep's judgements on hand-built points
$(B)/test_sweep: $(B)/obj/tests/e2e/test_sweep.o $(TU) $(addprefix $(B)/obj/tools/sweep/,\
	sweep_server.o sweep_prefix.o sweep_kv.o sweep_report.o) $(B)/obj/tools/cold/cold_server.o \
	$(B)/obj/tools/cold/cold_phases.o $(B)/obj/probe/probe_req.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm -ldl -lpthread

# The sniffer's portable scanning (8-byte words, for machines without
# SSE2, shim/core/ttft_scan.h) is tested here too: the same suites linked
# against it.
PORTABLE_OBJ := $(B)/obj/portable/ttft_sse.o $(patsubst shim/core/%.c,$(B)/obj/portable/%.o,$(HTTP_SRC))
$(B)/obj/portable/%.o: shim/core/%.c
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(CFLAGS) -DTTFT_SCAN_PORTABLE $(INC) -c $< -o $@
$(B)/test_%_portable: $(B)/obj/tests/unit/test_%.o $(TU) $(PORTABLE_OBJ) $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm -lpthread

$(B)/test_%: $(B)/obj/tests/unit/test_%.o $(TU) $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm -lpthread
$(B)/test_%: $(B)/obj/tests/e2e/test_%.o $(TU) $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS) -lm -lpthread

$(B)/bench_shim: $(B)/obj/bench/bench_shim.o
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/bench_tls: $(B)/obj/bench/bench_tls.o
	$(CC) $(LDFLAGS) -o $@ $^ $(SSL_LIBS)

$(B)/bench_analyze: $(B)/obj/bench/bench_analyze.o $(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(B)/fastpath: bench/fastpath.c
	$(CC) -O2 -o $@ $<

$(B)/exec_cost: $(B)/obj/bench/exec_cost.o
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/bench_accuracy: $(B)/obj/bench/bench_accuracy.o $(B)/obj/tests/support/fixture_client.o \
		$(B)/libttftcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

ifdef TTFT_DEPS_OK
# Ratios (what the shim costs) and accuracy figures (how close the tools'
# stamps come to the fixture's own record): reported, never pass/fail.
bench: all $(B)/bench_shim $(B)/bench_tls $(B)/bench_analyze $(B)/bench_accuracy \
		$(B)/fixture-server $(B)/fastpath $(B)/exec_cost
	$(B)/bench_shim $(B)/libttftshim.so $(B)
	$(B)/exec_cost $(B)/libttftshim.so
	$(B)/bench_tls $(B)/libttftshim.so
	$(B)/bench_analyze $(B)
	bash bench/fastpath.sh $(B)
	TTFT_BUILD=$(B) $(B)/bench_accuracy
	TTFT_BUILD=$(B) bash bench/probe_256.sh
	TTFT_BUILD=$(B) bash bench/scrape_cost.sh

# TTFT_SLOW=1 adds the suites that need the real engine (built on demand).
SLOW_PROGS := $(addprefix $(B)/,$(SLOW_SUITES))
test: check-layers all $(TEST_PROGS) $(if $(filter 1,$(TTFT_SLOW)),$(SLOW_PROGS) $(B)/ttft-mkmodel)
	$(if $(filter 1,$(TTFT_SLOW)),@$(ENGINE) server >/dev/null)
	@bash tests/run.sh

# Includes point down the layers, never up (docs/layout.md).
check-layers:
	@bash tests/check_layers.sh

demo: all
	@bash tools/demo.sh

# Everything but the preloaded shim under AddressSanitizer and UBSan (an
# instrumented shim cannot load into arbitrary programs), then the suites.
# Sanitized programs run several times slower: each test's time limit is
# scaled by this (tu_tcase); the assertions themselves hold at any speed.
SAN_TIMEOUT_SCALE ?= 3
# The exhaustive unit tests take every case under the sanitizers too: what
# made a case cost 10-20 times as much there was Check writing a message for
# every assertion that held, not the case (tu_passed, tests/support/
# testutil.h). SAN_STRIDE=N takes 1 case in N (tu_stride) on a slower machine.
SAN_STRIDE ?= 1
SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
sanitize-build:
	$(MAKE) B=build-asan CFLAGS="$(SAN)" LDFLAGS="-fsanitize=address,undefined" \
		SHIM_CFLAGS="-O2 -g" all $(subst $(B)/,build-asan/,$(TEST_PROGS))
sanitize: sanitize-build
	ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1 TTFT_BUILD=build-asan \
		TTFT_TEST_TIMEOUT_SCALE=$(SAN_TIMEOUT_SCALE) TTFT_TEST_STRIDE=$(SAN_STRIDE) bash tests/run.sh

# The suites that use threads (the log's 8 writers in 4 processes, the
# fixture server, over TLS too, ttft-cold's log reader and GPU sampler,
# ttft-run's /metrics scraper) under ThreadSanitizer (TSAN_SUITES:
# tests/suites.mk).
tsan-build:
	$(MAKE) B=build-tsan CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
		SHIM_CFLAGS="-O2 -g" all $(addprefix build-tsan/,$(TSAN_SUITES)) \
		build-tsan/fixture-server build-tsan/shim_host build-tsan/tls_two \
		build-tsan/tls_again
tsan: tsan-build
	TSAN_OPTIONS=halt_on_error=1 TTFT_BUILD=build-tsan \
		TTFT_TEST_TIMEOUT_SCALE=$(SAN_TIMEOUT_SCALE) TTFT_TEST_STRIDE=$(SAN_STRIDE) TTFT_SUITES="$(TSAN_SUITES)" \
		bash tests/run.sh

# The whole suite N times (default 10) under two CPU hogs: tests/stress.sh.
test-stress:
	@bash tests/stress.sh

endif

# libFuzzer harnesses (tests/fuzz/), outside the deps.sh wrapper above (clang
# is in its CI list; .ci/run installs it): the sniffer, the Prometheus parser, the
# log reader + analyzer, each run FUZZ_SECONDS on corpora from tests/fixtures.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(INC) $(PKG_CFLAGS)
build/fuzz/fuzz_http: tests/fuzz/fuzz_http.c $(HTTP_SRC) shim/core/ttft_sse.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^
build/fuzz/fuzz_prom: tests/fuzz/fuzz_prom.c tools/lib/ttft_prom.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -lm
build/fuzz/fuzz_logread: tests/fuzz/fuzz_logread.c $(CORE_SRC) $(ANALYZE_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread
build/fuzz/mkseed_log: tests/fuzz/mkseed_log.c $(HTTP_SRC) shim/core/ttft_sse.c
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) -O1 $(INC) -o $@ $^

fuzz: build/fuzz/fuzz_http build/fuzz/fuzz_prom build/fuzz/fuzz_logread build/fuzz/mkseed_log
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(B) build-asan build-tsan

.PHONY: all test check-layers bench demo sanitize sanitize-build tsan tsan-build test-stress \
	fuzz clean FORCE
-include $(shell find $(B) -name '*.d' 2>/dev/null)
.SECONDARY:
