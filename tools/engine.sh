#!/usr/bin/env bash
# engine.sh — find or build the embedded engine (llama.cpp's llama-server).
#
#   tools/engine.sh server   print the path of a llama-server, building it if needed
#   tools/engine.sh src      print the llama.cpp source dir (gguf.h, Qwen2 vocab)
#   tools/engine.sh ggml     print the build dir holding libggml-base (for tools/)
#
# Order of preference for the server: $TTFT_LLAMA_SERVER, `llama-server` on PATH,
# then a build cached outside the checkout, keyed by the pinned source version:
#   ${TTFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ttftshim}/llama-<commit>/
# The source is the llama.cpp that npm's node-llama-cpp@3.21.1 ships as
# llama/gitRelease.bundle. Builds use ccache when present. Progress and the full
# build log go to stderr / the cache dir; stdout carries only the answer.
# A first build takes about 16 minutes on 2 busy cores (measured; seconds
# once cached). One build at a time per cache: a second caller waits for the
# first (flock on llama-<commit>.lock) and then uses what it built.
set -euo pipefail

NLC_VERSION=3.21.1
LLAMA_COMMIT=80fb11a
CACHE=${TTFT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ttftshim}
ROOT=$CACHE/llama-$LLAMA_COMMIT
SRC=$ROOT/src
BUILD=$ROOT/build
LOG=$ROOT/build.log
LOCK=$CACHE/llama-$LLAMA_COMMIT.lock

say() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

# Hold the cache's build lock until this script exits (fd 9). Another build
# in progress: say so, and wait for it.
locked() {
	[ -n "${TTFT_ENGINE_LOCKED:-}" ] && return 0
	mkdir -p "$CACHE"
	exec 9>>"$LOCK"
	if ! flock -n 9; then
		say "another build of llama.cpp $LLAMA_COMMIT is running in $ROOT; waiting for it (its log: $LOG)"
		flock 9
		say "the other build has finished"
	fi
	TTFT_ENGINE_LOCKED=1
}

HINT= # a function that says what to try when the next step fails, if its log is not enough
npm_hint() {
	say "npm's reason is above (its registry: npm config get registry). A fresh machine" \
		"needs npm's registry reachable and trusted (behind a proxy: npm config set" \
		"proxy URL; a TLS-inspecting proxy's CA: npm config set cafile FILE), or" \
		"TTFT_LLAMA_SERVER=/path/to/llama-server to use one you have"
}
step() { # step NAME CMD... — run CMD, appending to the log; on failure say where
	local name=$1; shift
	say "$name (log: $LOG)"
	if ! "$@" >>"$LOG" 2>&1; then
		tail -n 20 "$LOG" >&2
		[ -z "$HINT" ] || "$HINT"
		die "step '$name' failed; the whole log is $LOG"
	fi
}

ensure_src() {
	[ -f "$SRC/.ttft-ok" ] && return 0
	mkdir -p "$ROOT"
	: >"$LOG"
	command -v npm >/dev/null || die "npm is needed to fetch node-llama-cpp@$NLC_VERSION (apt-get install nodejs npm)"
	command -v git >/dev/null || die "git is needed to unpack the llama.cpp bundle"
	local tmp
	tmp=$(mktemp -d "$ROOT/fetch.XXXXXX")
	# --loglevel=error, not --silent: npm's own reason (a refused or
	# untrusted registry, a proxy) is what the failing step shows
	HINT=npm_hint
	step "fetching node-llama-cpp@$NLC_VERSION from npm" \
		bash -c "cd '$tmp' && npm pack --loglevel=error node-llama-cpp@$NLC_VERSION"
	HINT=
	step "unpacking llama/gitRelease.bundle" \
		tar -xzf "$tmp/node-llama-cpp-$NLC_VERSION.tgz" -C "$tmp" package/llama/gitRelease.bundle
	rm -rf "$SRC"
	step "cloning llama.cpp $LLAMA_COMMIT from the bundle" \
		git clone -q "$tmp/package/llama/gitRelease.bundle" "$SRC"
	local got
	got=$(git -C "$SRC" rev-parse --short=7 HEAD)
	[ "$got" = "$LLAMA_COMMIT" ] || die "bundle holds llama.cpp $got, expected $LLAMA_COMMIT"
	rm -rf "$tmp"
	touch "$SRC/.ttft-ok"
}

configure() {
	[ -f "$BUILD/CMakeCache.txt" ] && return 0
	local gen=() launcher=()
	command -v ninja >/dev/null && gen=(-G Ninja)
	command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
	command -v cmake >/dev/null || die "cmake is needed to build llama-server (apt-get install cmake)"
	step "configuring (cmake Release, no curl/openssl/UI/tests/examples)" \
		cmake -S "$SRC" -B "$BUILD" "${gen[@]}" "${launcher[@]}" \
		-DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
		-DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF \
		-DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON ${TTFT_CMAKE_EXTRA:-}
}

build_target() { # build_target TARGET — with a progress line every 30 s
	local target=$1 jobs
	jobs=${TTFT_JOBS:-$(nproc)}
	say "building $target with $jobs jobs (a first build takes ~16 min on 2 busy cores; cached afterwards)"
	# in a process group of its own (setsid), stopped as a whole if this
	# script ends first: a background job of a script ignores a terminal's
	# Ctrl-C, and a TERM to cmake alone can leave ninja and the compilers on
	setsid cmake --build "$BUILD" --target "$target" -j "$jobs" >>"$LOG" 2>&1 &
	local pid=$! t0=$SECONDS next=30
	# shellcheck disable=SC2064
	trap "kill -TERM -- -$pid 2>/dev/null" EXIT
	# shellcheck disable=SC2064
	trap "say 'interrupted: stopping the build'; exit 130" INT
	# shellcheck disable=SC2064
	trap "say 'terminated: stopping the build'; exit 143" TERM
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if (( SECONDS - t0 >= next )); then
			next=$((next + 30))
			say "  … $(( (SECONDS - t0) / 60 )) min $(( (SECONDS - t0) % 60 )) s, step $(grep -oE '^\[[0-9]+/[0-9]+\]' "$LOG" | tail -n 1 | tr -d '[]')"
		fi
	done
	if ! wait "$pid"; then
		trap - EXIT INT TERM
		grep -E 'error|Error' "$LOG" | tail -n 10 >&2 || true
		die "building $target failed; the whole log is $LOG"
	fi
	trap - EXIT INT TERM
}

server_bin() {
	if [ -n "${TTFT_LLAMA_SERVER:-}" ]; then
		[ -x "$TTFT_LLAMA_SERVER" ] || die "TTFT_LLAMA_SERVER=$TTFT_LLAMA_SERVER is not an executable"
		echo "$TTFT_LLAMA_SERVER"; return
	fi
	if command -v llama-server >/dev/null; then command -v llama-server; return; fi
	if [ ! -x "$BUILD/bin/llama-server" ]; then
		locked
		if [ ! -x "$BUILD/bin/llama-server" ]; then
			ensure_src; configure; build_target llama-server
		fi
	fi
	echo "$BUILD/bin/llama-server"
}

ggml_dir() {
	if ! ls "$BUILD"/bin/libggml-base.* >/dev/null 2>&1; then
		locked
		ensure_src; configure
		if ! ls "$BUILD"/bin/libggml-base.* >/dev/null 2>&1; then build_target ggml-base; fi
	fi
	echo "$BUILD/bin"
}

case "${1:-}" in
	server) server_bin ;;
	src) [ -f "$SRC/.ttft-ok" ] || { locked; ensure_src; }; echo "$SRC" ;;
	ggml) ggml_dir ;;
	-h|--help|"") sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ] ;;
	*) die "unknown command '$1' (server | src | ggml)" ;;
esac
