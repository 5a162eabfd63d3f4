#!/usr/bin/env bash
# gpu_day.sh — the whole day on a lent GPU machine (no network, minutes of
# time): cold start, the shim's accuracy at GPU speed, prefix caching and KV
# scaling, against llama-server built with CUDA from the pinned source.
#
#   tools/gpu_day.sh pack            here: build the tools and put what the GPU
#                                    machine lacks into .gpu/ (carry it there)
#   tools/gpu_day.sh build           there: unpack, build llama-server (CUDA,
#                                    sm_90) and ttft-mkmodel, write the model
#   tools/gpu_day.sh run [STEP...]   there: env cold accuracy prefix kv (default
#                                    all), results in .gpu-work/h200, packed into $OUT
#   tools/gpu_day.sh all [STEP...]   build, then run, under one deadline
#   tools/gpu_day.sh report DIR      rewrite DIR/run.md from DIR/status/ (two
#                                    calls' results unpacked into one folder)
#   tools/gpu_day.sh dry-run [--full-build]
#                                    here: pack, build and run at a tiny scale on
#                                    the CPU in a scratch folder, check, clean up
#
# Every step is time-boxed against one deadline (GPU_DAY_BUDGET s from the
# start, default 570: one 10-minute device call) and skipped, saying so, when
# what is left would not fit it; progress is printed with timestamps; a step
# that fails leaves the others running. Ctrl-C (or SIGTERM) during the
# build stops it (recorded as interrupted); during a step it stops the
# step, its servers with it, and the run: the steps after it are
# recorded as not run, the results packed as usual, exit 130 (143). Each
# step's status and exact commands go to status/ and commands/, and from
# them to run.md.
# docs/reports/h200/README.md has the exact device commands, docs/gpu-day.md
# what the run is for. Knobs: GPU_DAY_WORK (.gpu-work), GPU_DAY_SCALE
# (full|tiny), GPU_DAY_SHAPE, GPU_DAY_CMAKE, GPU_DAY_JOBS, and each scale
# value as GPU_DAY_<NAME> (see scale()).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ME=$ROOT/tools/gpu_day.sh
LLAMA_COMMIT=$(sed -n 's/^LLAMA_COMMIT=//p' tools/engine.sh)
PACK=${GPU_DAY_PACK:-$ROOT/.gpu}
WORK=${GPU_DAY_WORK:-$ROOT/.gpu-work}
R=${GPU_DAY_RESULTS:-$WORK/h200}
CACHE=$WORK/cache
SRC=$CACHE/llama-$LLAMA_COMMIT/src
BIN=$WORK/bin
SRC_TGZ=llama-$LLAMA_COMMIT.tar.gz
export GPU_DAY_T0=${GPU_DAY_T0:-$(date +%s)}

say() { printf '[%s +%4ss] gpu_day: %s\n' "$(date -u +%H:%M:%S)" $(( $(date +%s) - GPU_DAY_T0 )) "$*"; }
die() { say "error: $*" >&2; exit 1; }
left() { echo $(( GPU_DAY_DEADLINE - $(date +%s) )); }

# Where the progress goes when $OUT exists (the device's return folder):
# appended there as it is printed, so a killed call still brings it back.
log_to_out() {
	if [ -n "${OUT:-}" ] && [ -d "$OUT" ] && [ -z "${GPU_DAY_TEED:-}" ]; then
		export GPU_DAY_TEED=1
		# tee outlives a Ctrl-C or SIGTERM sent to the whole group, so
		# that what the run says while it stops is still written
		exec > >(trap '' INT TERM; exec tee -a "$OUT/gpu_day.log") 2>&1
	fi
}

# The experiment's size. full: the H200 run; tiny: the CPU dry run.
scale() {
	local s=${GPU_DAY_SCALE:-full}
	case $s in
	full)
		d_shape=qwen2.5-1.5b d_extra="-ngl 99"
		d_cycles=3 d_warm=5 d_cold_tokens=64
		d_acc_n=24 d_acc_words=100 d_acc_tokens=32 d_acc_ctx=8192
		d_prefix="256,1024,4096,16384" d_prefix_k=10 d_prefix_ctx=32768 d_prefix_tokens=8
		d_kv_configs="np1=-np 1 -c 4096;np4=-np 4 -c 65536;np16=-np 16 -c 65536"
		d_kv_prompts="512,2048" d_kv_conc="1,2,4,8,16,32" d_kv_tokens=16
		d_box_build=480 d_box_env=40 d_box_cold=150 d_box_accuracy=150 d_box_prefix=150 d_box_kv=300
		d_need_env=15 d_need_cold=60 d_need_accuracy=60 d_need_prefix=60 d_need_kv=120 ;;
	tiny)
		d_shape=tiny d_extra="-ngl 99 -t 1"
		d_cycles=2 d_warm=2 d_cold_tokens=8
		d_acc_n=4 d_acc_words=20 d_acc_tokens=8 d_acc_ctx=2048
		d_prefix="64,256" d_prefix_k=2 d_prefix_ctx=2048 d_prefix_tokens=4
		d_kv_configs="np1=-np 1 -c 1024;np2=-np 2 -c 2048"
		d_kv_prompts="64" d_kv_conc="1,2,4" d_kv_tokens=4
		d_box_build=1500 d_box_env=40 d_box_cold=180 d_box_accuracy=180 d_box_prefix=180 d_box_kv=300
		d_need_env=15 d_need_cold=30 d_need_accuracy=30 d_need_prefix=30 d_need_kv=30 ;;
	*) die "GPU_DAY_SCALE=$s: full or tiny" ;;
	esac
	SHAPE=${GPU_DAY_SHAPE:-$d_shape} EXTRA=${GPU_DAY_EXTRA:-$d_extra}
	CYCLES=${GPU_DAY_CYCLES:-$d_cycles} WARM=${GPU_DAY_WARM:-$d_warm}
	COLD_TOKENS=${GPU_DAY_COLD_TOKENS:-$d_cold_tokens}
	ACC_N=${GPU_DAY_ACC_N:-$d_acc_n} ACC_WORDS=${GPU_DAY_ACC_WORDS:-$d_acc_words}
	ACC_TOKENS=${GPU_DAY_ACC_TOKENS:-$d_acc_tokens} ACC_CTX=${GPU_DAY_ACC_CTX:-$d_acc_ctx}
	PREFIX=${GPU_DAY_PREFIX:-$d_prefix} PREFIX_K=${GPU_DAY_PREFIX_K:-$d_prefix_k}
	PREFIX_CTX=${GPU_DAY_PREFIX_CTX:-$d_prefix_ctx}
	PREFIX_TOKENS=${GPU_DAY_PREFIX_TOKENS:-$d_prefix_tokens}
	KV_CONFIGS=${GPU_DAY_KV_CONFIGS:-$d_kv_configs} KV_PROMPTS=${GPU_DAY_KV_PROMPTS:-$d_kv_prompts}
	KV_CONC=${GPU_DAY_KV_CONC:-$d_kv_conc} KV_TOKENS=${GPU_DAY_KV_TOKENS:-$d_kv_tokens}
	BOX_BUILD=${GPU_DAY_BOX_BUILD:-$d_box_build}
	export SHAPE EXTRA CYCLES WARM COLD_TOKENS ACC_N ACC_WORDS ACC_TOKENS ACC_CTX PREFIX \
		PREFIX_K PREFIX_CTX PREFIX_TOKENS KV_CONFIGS KV_PROMPTS KV_CONC KV_TOKENS
}

# ---------------------------------------------------------------- pack (here)
# The tools are built with DT_RPATH $ORIGIN/../lib, so they find the carried
# libcurl and cJSON (and their dependencies) before the system's, and only
# they do: LD_LIBRARY_PATH would reach the clients and llama-server too.
GLIBC_RE='^(libc|libm|libdl|libpthread|librt|libresolv|libutil|libanl|ld-linux-x86-64)\.so'
cmd_pack() {
	local t0=$SECONDS stage tb=build/gpu
	command -v git >/dev/null || die "git is needed to archive the llama.cpp source"
	say "building the tools (make)"
	make -s -j"${GPU_DAY_MAKE_JOBS:-2}" all >&2 || die "make failed"
	say "building the copies that travel ($tb, rpath \$ORIGIN/../lib)"
	make -s -j"${GPU_DAY_MAKE_JOBS:-2}" B=$tb \
		LDFLAGS='-Wl,--disable-new-dtags,-rpath,\$$ORIGIN/../lib' all >&2 ||
		die "make B=$tb failed"
	local src
	src=$(tools/engine.sh src) || die "no llama.cpp source (tools/engine.sh src)"
	rm -rf "$PACK"
	mkdir -p "$PACK"
	stage=$(mktemp -d "${TMPDIR:-/tmp}/gpu-day-pack.XXXXXX") || die "mktemp failed"
	mkdir -p "$stage/bin" "$stage/lib" "$stage/libexec" "$stage/gen"
	# ttft-mkmodel is compiled there, against that build's ggml: its
	# --version header (generated by make, not in the checkout) travels
	cp build/gen/ttft_version.h "$stage/gen/" || die "no build/gen/ttft_version.h (make)"
	cp $tb/ttft-run $tb/ttft-analyze $tb/ttft-probe $tb/ttft-cold $tb/ttft-sweep \
		$tb/libttftshim.so "$stage/bin/"
	# curl, for a machine without one: it has no rpath, so a wrapper points it at lib/
	local curl
	curl=$(command -v curl) || die "curl is needed here (apt-get install curl)"
	cp "$curl" "$stage/libexec/curl"
	printf '#!/bin/sh\n# Debian'"'"'s curl with the libraries carried beside it\nd=$(dirname "$0")/..\nLD_LIBRARY_PATH=$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$d/libexec/curl" "$@"\n' \
		>"$stage/bin/curl"
	chmod +x "$stage/bin/curl"
	local n=0
	while read -r name path; do
		[[ $name =~ $GLIBC_RE ]] && continue
		cp -L "$path" "$stage/lib/$name" && n=$((n + 1))
	done < <(ldd "$stage"/bin/ttft-* "$stage/libexec/curl" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u)
	if ldd "$stage"/bin/ttft-* | grep -q 'not found'; then
		ldd "$stage"/bin/ttft-* | grep 'not found' >&2
		die "a library the tools need is missing here"
	fi
	{
		echo "packed $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -srm), $(ldd --version | head -n 1)"
		echo "checkout $(git describe --always --dirty 2>/dev/null || echo unknown)"
		echo "llama.cpp $LLAMA_COMMIT ($src)"
		echo "libraries (not glibc), found by ldd here:"
		ls "$stage/lib" | sed 's/^/  /'
	} >"$stage/MANIFEST"
	tar -czf "$PACK/tools.tar.gz" -C "$stage" . || die "tar of the tools failed"
	rm -rf "$stage"
	say "tools: $n libraries + 6 programs + curl -> $PACK/tools.tar.gz ($(du -k "$PACK/tools.tar.gz" | cut -f1) KiB)"
	# The pinned source without what a CUDA llama-server build never reads:
	# docs, tests, the other backends, the web UI's sources, all models but
	# the Qwen2 vocabulary that ttft-mkmodel copies.
	local ex=(docs models tests benches gguf-py .devops .github media examples pocs
		conversion ci skills grammars tools/ui/src tools/ui/tests tools/ui/static
		tools/server/tests tools/server/bench tools/mtmd/tests tools/mtmd/legacy-models)
	local b
	for b in opencl vulkan sycl hexagon metal et webgpu openvino cann virtgpu zdnn musa hip zendnn rpc; do
		ex+=("ggml/src/ggml-$b")
	done
	local spec=()
	for b in "${ex[@]}"; do spec+=(":(exclude)$b"); done
	# (a pathspec cannot take one file back out of an excluded folder)
	local tarf=$PACK/llama-$LLAMA_COMMIT.tar
	git -C "$src" archive --format=tar -o "$tarf" HEAD -- . "${spec[@]}" &&
		tar -rf "$tarf" -C "$src" models/ggml-vocab-qwen2.gguf &&
		gzip -9 "$tarf" || die "archiving the llama.cpp source in $src failed"
	say "llama.cpp $LLAMA_COMMIT source (trimmed) -> $PACK/$SRC_TGZ ($(du -k "$PACK/$SRC_TGZ" | cut -f1) KiB)"
	local kib
	kib=$(du -sk "$PACK" | cut -f1)
	(( kib < 30 * 1024 )) || die "$PACK is $kib KiB: too much to carry (the limit is 64 MiB with the checkout)"
	say "packed in $((SECONDS - t0)) s: $PACK is $kib KiB; carry it: [\"${PACK#$ROOT/}\"]"
}

# ------------------------------------------------------------ build (device)
# Its status and llama.cpp's build log go beside the build, for run.md.
# The build's timeouts run in the foreground (--foreground: in this
# process group, not one of their own), so a terminal's Ctrl-C reaches
# engine.sh and ttft-mkmodel at once; engine.sh stops its build's whole
# process group. Interrupted, the build is recorded as such, run.md
# written and packed, and the run exits 130 (143), as after a step
# (build_failed).
cmd_build() {
	local t=$SECONDS rc=0
	mkdir -p "$WORK" "$CACHE"
	INTERRUPTED=
	trap 'INTERRUPTED=INT' INT
	trap 'INTERRUPTED=TERM' TERM
	(build_steps) || rc=$?
	trap - INT TERM
	if [ -n "$INTERRUPTED" ]; then
		printf 'interrupted (SIG%s)\t%s\t-\n' "$INTERRUPTED" $((SECONDS - t)) >"$WORK/build.status"
		cp "$CACHE/llama-$LLAMA_COMMIT/build.log" "$WORK/build.log" 2>/dev/null
		say "interrupted (SIG$INTERRUPTED) during the build"
		[ "$INTERRUPTED" = INT ] && return 130
		return 143
	fi
	if (( rc == 0 )); then
		printf 'ok\t%s\t-\n' $((SECONDS - t)) >"$WORK/build.status"
	else
		printf 'failed (exit %s): see logs/build.log and gpu_day.log\t%s\t-\n' "$rc" $((SECONDS - t)) >"$WORK/build.status"
	fi
	cp "$CACHE/llama-$LLAMA_COMMIT/build.log" "$WORK/build.log" 2>/dev/null
	return $rc
}

build_steps() {
	scale
	export GPU_DAY_DEADLINE=${GPU_DAY_DEADLINE:-$(( GPU_DAY_T0 + ${GPU_DAY_BUDGET:-570} ))}
	local t0=$SECONDS t box rc
	: >"$WORK/build.tsv"
	rm -f "$WORK/build.ok"
	[ -f "$PACK/tools.tar.gz" ] && [ -f "$PACK/$SRC_TGZ" ] ||
		die "no $PACK/tools.tar.gz or $PACK/$SRC_TGZ: run 'tools/gpu_day.sh pack' where the tools build, and carry ${PACK#$ROOT/}"
	say "machine: $(uname -srm), $(nproc) cores; $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
	t=$SECONDS
	rm -rf "$BIN" "$WORK/lib" "$WORK/libexec"
	tar -xzf "$PACK/tools.tar.gz" -C "$WORK" || die "cannot unpack $PACK/tools.tar.gz"
	if ! "$BIN/ttft-probe" --help >/dev/null 2>&1; then
		ldd "$BIN/ttft-probe" >&2
		die "the carried tools do not run here (see ldd above)"
	fi
	local have=() lib known
	known=$(ldconfig -p 2>/dev/null)
	for lib in "$WORK"/lib/*; do
		grep -q "^[[:space:]]*${lib##*/} " <<<"$known" && have+=("${lib##*/}")
	done
	say "the carried tools run (their own libcurl/cJSON by rpath; this machine also has ${#have[@]} of the $(ls "$WORK/lib" | wc -l) carried libraries: ${have[*]:-none})"
	if "$BIN/curl" --version >/dev/null 2>&1; then
		say "the carried curl runs too (used only where this machine has none)"
	else
		say "note: the carried curl does not run here"
	fi
	printf 'unpack_tools_s\t%s\n' $((SECONDS - t)) >>"$WORK/build.tsv"

	local server
	if [ -n "${TTFT_LLAMA_SERVER:-}" ]; then
		# a prebuilt tree (the dry run's default): its libggml-base is beside it
		server=$TTFT_LLAMA_SERVER
		[ -x "$server" ] || die "TTFT_LLAMA_SERVER=$server is not an executable"
		say "using the prebuilt llama-server $server (TTFT_LLAMA_SERVER)"
		SRC=$(tools/engine.sh src) || die "no llama.cpp source"
	else
		t=$SECONDS
		if [ ! -f "$SRC/.ttft-ok" ]; then
			rm -rf "$SRC"
			mkdir -p "$SRC"
			tar -xzf "$PACK/$SRC_TGZ" -C "$SRC" || die "cannot unpack $PACK/$SRC_TGZ"
			[ -s "$SRC/models/ggml-vocab-qwen2.gguf" ] ||
				die "$PACK/$SRC_TGZ holds no models/ggml-vocab-qwen2.gguf (ttft-mkmodel needs it): pack again"
			touch "$SRC/.ttft-ok"
		fi
		printf 'unpack_source_s\t%s\n' $((SECONDS - t)) >>"$WORK/build.tsv"
		box=$(( $(left) - 60 ))
		(( box > BOX_BUILD )) && box=$BOX_BUILD
		(( box > 60 )) || die "only $(left) s left before the deadline: no time to build llama-server"
		local cm=${GPU_DAY_CMAKE--DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_NCCL=OFF}
		say "building llama-server (cmake $cm; $(( ${GPU_DAY_JOBS:-$(nproc)} )) jobs; time box $box s; log $CACHE/llama-$LLAMA_COMMIT/build.log)"
		t=$SECONDS
		# engine.sh takes a llama-server on PATH first: hide any, we want this build
		local path=$PATH other
		if other=$(command -v llama-server); then
			say "note: ignoring $other on PATH"
			path=$(tr ':' '\n' <<<"$PATH" | grep -vx "$(dirname "$other")" | paste -sd:)
		fi
		server=$(PATH=$path TTFT_CACHE=$CACHE TTFT_JOBS=${GPU_DAY_JOBS:-$(nproc)} TTFT_CMAKE_EXTRA="$cm" \
			timeout --foreground -k 10 "$box" tools/engine.sh server) || {
			rc=$?
			# interrupted: cmd_build says so
			(( rc == 130 || rc == 143 )) && exit $rc
			die "building llama-server failed or ran out of its $box s (log: $CACHE/llama-$LLAMA_COMMIT/build.log)"
		}
		printf 'llama_server_build_s\t%s\n' $((SECONDS - t)) >>"$WORK/build.tsv"
		say "llama-server built in $((SECONDS - t)) s: $server"
	fi
	local ggml
	ggml=$(dirname "$server")
	ls "$ggml"/libggml-base.* >/dev/null 2>&1 || die "no libggml-base beside $server"

	# the Makefile's rule for build/ttft-mkmodel, against this build's ggml
	t=$SECONDS
	local cc=${CC:-$(command -v cc || command -v gcc)}
	[ -n "$cc" ] || die "no C compiler (cc or gcc) for ttft-mkmodel"
	"$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -isystem "$SRC/ggml/include" -I"$WORK/gen" \
		-o "$BIN/ttft-mkmodel" tools/ttft-mkmodel.c -L"$ggml" -lggml-base -Wl,-rpath,"$ggml" -lm ||
		die "compiling ttft-mkmodel failed"
	local model=$WORK/models/qwen2-$SHAPE-seed42.gguf
	mkdir -p "$WORK/models"
	if [ ! -s "$model" ]; then
		say "writing the random-weight $SHAPE model -> $model"
		box=$(( $(left) - 30 ))
		(( box > 300 )) && box=300
		timeout --foreground -k 5 "$box" "$BIN/ttft-mkmodel" --vocab "$SRC/models/ggml-vocab-qwen2.gguf" \
			--shape "$SHAPE" --out "$model.part" >/dev/null && mv "$model.part" "$model" ||
			die "ttft-mkmodel failed"
	fi
	printf 'mkmodel_and_model_s\t%s\n' $((SECONDS - t)) >>"$WORK/build.tsv"
	printf 'build_total_s\t%s\n' $((SECONDS - t0)) >>"$WORK/build.tsv"
	printf 'SERVER=%q\nMODEL=%q\nSHAPE=%q\n' "$server" "$model" "$SHAPE" >"$WORK/build.ok"
	say "build done in $((SECONDS - t0)) s: $(tr '\t\n' '= ' <"$WORK/build.tsv")"
}

# -------------------------------------------------------------- run (device)
# A loopback port nothing holds, below the kernel's ephemeral range (where a
# client's own connect() could take it before the server binds it): bound
# once to check.
free_port() {
	python3 - <<'PY'
import random, socket
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    lo = 32768
top = lo if lo > 11000 else 65535
for _ in range(200):
    port = random.randrange(10000, top)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit(1)
PY
}

# Record the exact command a step runs (for run.md), then run it. Paths
# are written from the checkout's root; an argument with spaces or quotes
# in single quotes.
cmdlog() {
	local a line=
	for a in "$@"; do
		a=${a//$ROOT\//}
		[[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]] || a="'${a//\'/\'\\\'\'}'"
		line+="$a "
	done
	printf '%s\n' "${line% }" >>"$R/commands/$GPU_DAY_STEP.txt"
	"$@"
}

step_env() {
	{
		echo "# The machine"
		echo
		echo '| item | value |'
		echo '|---|---|'
		echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
		echo "| kernel | $(uname -srm) |"
		echo "| OS | $( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null) |"
		echo "| glibc | $(ldd --version 2>/dev/null | head -n 1) |"
		echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores |"
		echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB (MemTotal now)", $2 / 1048576}' /proc/meminfo) |"
		echo "| GPU | $(nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null || echo 'none (nvidia-smi failed)') |"
		echo "| nvcc | $(nvcc --version 2>/dev/null | tail -n 1 || echo none) |"
		echo "| cmake / cc | $(cmake --version 2>/dev/null | head -n 1) / $(${CC:-cc} --version 2>/dev/null | head -n 1) |"
		echo "| python3 | $(command -v python3) $(python3 --version 2>&1) |"
		echo "| curl | $CURL_USED |"
		echo "| llama-server | $SERVER (llama.cpp $LLAMA_COMMIT) |"
		echo "| model | $MODEL ($SHAPE, $(du -m "$MODEL" | cut -f1) MiB) |"
		echo "| scale | ${GPU_DAY_SCALE:-full}; server flags \`$EXTRA\` |"
		echo
		echo "Build (s): $(tr '\t\n' '= ' <"$WORK/build.tsv")"
		echo
		echo '## llama-server --list-devices'
		echo '```'
		timeout 60 "$SERVER" --list-devices 2>&1 | tail -n 20
		echo '```'
		echo '## nvidia-smi'
		echo '```'
		timeout 30 nvidia-smi 2>&1 | head -n 30
		echo '```'
	} >"$R/env.md"
	cat "$R/env.md"
}

# ttft-cold under the shim (ttft-run), as make demo runs it; the server is
# kept out of it (env -u LD_PRELOAD): the shim watches the client.
step_cold() {
	local port
	port=$(free_port) || { echo "no free port"; return 1; }
	local url=http://127.0.0.1:$port log=$WORK/cold.ttftlog rc=0
	rm -f "$log"
	mkdir -p "$R/logs/cold"
	cmdlog "$BIN/ttft-run" --quiet --log "$log" -- "$BIN/ttft-cold" \
		--server "env -u LD_PRELOAD $SERVER -m $MODEL --host 127.0.0.1 --port $port $EXTRA -np 1 -c 4096 --cache-ram 0 --metrics -lv 4 --log-timestamps --log-prefix" \
		--url "$url" --cycles "$CYCLES" --warm-runs "$WARM" --max-tokens "$COLD_TOKENS" --ignore-eos \
		--ready-timeout 120 --report "$R/cold.md" --json "$R/cold.json" --log-dir "$R/logs/cold" || rc=$?
	# the shim's view of the same requests: per-request table, trace, waterfall
	if [ -s "$log" ]; then
		cmdlog "$BIN/ttft-analyze" --path /v1/completions --trace "$R/cold-trace.json" \
			--svg "$R/cold-waterfall.svg" "$log" >"$R/cold-shim.txt" 2>&1 ||
			{ echo "ttft-analyze failed (exit $?)"; rc=1; }
		cat "$R/cold-shim.txt"
		cmdlog "$BIN/ttft-analyze" --path /v1/completions --json "$log" >"$R/cold-shim.json" ||
			{ echo "ttft-analyze --json failed (exit $?)"; rc=1; }
	fi
	rm -f "$log"
	return $rc
}

# The shim's per-request split at GPU speed: real clients (Python, curl)
# under ttft-run --metrics against one llama-server slot, each request's
# own llama.cpp timings beside it; alone and 4 at once.
SRV_PID=
stop_server() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM -- "-$SRV_PID" 2>/dev/null
	local i
	for i in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}

health() { # health PORT: llama-server answers /health with 200
	local line
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
	IFS= read -r -t 2 line <&3
	exec 3<&-
	[[ $line == *" 200"* ]]
}

step_accuracy() {
	local port cmd try ready=0 i
	mkdir -p "$R/logs/accuracy" "$R/accuracy"
	trap stop_server EXIT
	trap 'stop_server; exit 143' TERM INT
	# another process may bind the port first (a shared machine): up to 3 ports
	for try in 1 2 3; do
		port=$(free_port) || { echo "no free port"; return 1; }
		cmd="$SERVER -m $MODEL --host 127.0.0.1 --port $port $EXTRA -np 1 -c $ACC_CTX --cache-ram 0 --metrics"
		set -m # the server gets its own process group, stopped whole
		$cmd >"$R/logs/accuracy/server.log" 2>&1 &
		SRV_PID=$!
		set +m
		for i in $(seq 600); do
			health "$port" && { ready=1; break; }
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.2
		done
		(( ready )) && break
		stop_server
		grep -q "couldn't bind" "$R/logs/accuracy/server.log" || break
		echo "port $port was taken; another"
	done
	if (( !ready )); then
		echo "llama-server did not become ready; see logs/accuracy/server.log:"
		tail -n 5 "$R/logs/accuracy/server.log"
		return 1
	fi
	echo "$cmd" | sed "s#$ROOT/##g" >>"$R/commands/$GPU_DAY_STEP.txt"
	local client=(python3 tools/gpu_day/client.py --port "$port" --prompt-words "$ACC_WORDS"
		--max-tokens "$ACC_TOKENS" --timeout 60)
	# one request first, not counted: the first after a start pays warm-up
	"${client[@]}" --requests 1 --tag warmup >/dev/null || { echo "the warm-up request failed"; return 1; }
	local runs=() via c rc=0 name
	for via in python curl; do
		for c in 1 4; do
			name=$via-c$c
			echo "[$(date -u +%T)] $name: $ACC_N requests, $c at once, one slot"
			cmdlog "$BIN/ttft-run" --quiet --metrics "http://127.0.0.1:$port" --json "$R/accuracy/$name.shim.json" \
				-- "${client[@]}" --requests "$ACC_N" --concurrency "$c" --via "$via" --tag "$name" \
				>"$R/accuracy/$name.client.jsonl" || { echo "$name: exit $?"; rc=1; }
			runs+=("$via:$c:$R/accuracy/$name.shim.json:$R/accuracy/$name.client.jsonl")
		done
	done
	stop_server
	cmdlog python3 tools/gpu_day/accuracy.py --json "$R/accuracy.json" --md "$R/accuracy.md" \
		--meta "llama-server \`$(sed "s#$ROOT/##g; s#$WORK/##g" <<<"$cmd" | sed 's/--port [0-9]*/--port P/')\`; $ACC_N requests a run; prompts of about $ACC_WORDS words + a numbered first line, each its own, \`cache_prompt: false\`; $ACC_TOKENS tokens out (ignore_eos); clients: python (http.client, a new connection a request: llama-server closes one after a stream), curl ($CURL_USED, one process a request)." \
		"${runs[@]}" || rc=1
	head -n 20 "$R/accuracy.md"
	return $rc
}

# The GPU while a sweep runs (utilisation, memory, power, SM clock every
# 500 ms), beside its report; nothing where there is no nvidia-smi.
GPU_SAMPLER=
gpu_sample() {
	command -v nvidia-smi >/dev/null || return 0
	nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw,clocks.sm \
		--format=csv -lms 500 >"$1" 2>&1 &
	GPU_SAMPLER=$!
	trap '[ -n "$GPU_SAMPLER" ] && kill $GPU_SAMPLER 2>/dev/null' EXIT
}

step_prefix() {
	local port
	port=$(free_port) || { echo "no free port"; return 1; }
	gpu_sample "$R/prefix-gpu.csv"
	cmdlog "$BIN/ttft-sweep" --server "$SERVER -m $MODEL --host 127.0.0.1 --port $port $EXTRA --cache-ram 0 --metrics" \
		--url "http://127.0.0.1:$port" --experiments prefix --ignore-eos --max-tokens "$PREFIX_TOKENS" \
		--prefix-tokens "$PREFIX" --prefix-requests "$PREFIX_K" \
		--cache-off-flags "-np 1 -c $PREFIX_CTX --no-cache-prompt" --cache-on-flags "-np 1 -c $PREFIX_CTX" \
		--ready-timeout 120 --timeout 120 --report "$R/prefix.md" --json "$R/prefix.json" --log-dir "$R/logs/prefix"
}

step_kv() {
	local port cfgs=() c
	port=$(free_port) || { echo "no free port"; return 1; }
	IFS=';' read -r -a c <<<"$KV_CONFIGS"
	for c in "${c[@]}"; do cfgs+=(--kv-config "$c"); done
	gpu_sample "$R/kv-gpu.csv"
	cmdlog "$BIN/ttft-sweep" --server "$SERVER -m $MODEL --host 127.0.0.1 --port $port $EXTRA --cache-ram 0 --metrics" \
		--url "http://127.0.0.1:$port" --experiments kv --ignore-eos --max-tokens "$KV_TOKENS" \
		"${cfgs[@]}" --prompt-tokens "$KV_PROMPTS" --concurrency "$KV_CONC" \
		--ready-timeout 120 --timeout 120 --report "$R/kv.md" --json "$R/kv.json" --log-dir "$R/logs/kv"
}

# run.md: what ran, how long, how it ended, the exact commands; made of
# each step's own status and commands files, so results of two calls
# unpacked into one folder make one record (tools/gpu_day.sh report DIR).
STEPS="build env cold accuracy prefix kv"
step_outputs() {
	case $1 in
	build) echo logs/build.log ;;
	env) echo env.md ;;
	cold) echo cold.md cold.html cold.json cold-cold-start.svg cold-warm-variance.svg \
		cold-shim.txt cold-shim.json cold-trace.json cold-waterfall.svg ;;
	accuracy) echo accuracy.md accuracy.json accuracy/ ;;
	prefix) echo prefix.md prefix.html prefix.json prefix-prefix.svg prefix-gpu.csv ;;
	kv) echo kv.md kv.html kv.json kv-kv-waterfall.svg kv-gpu.csv ;;
	esac
}
write_run_md() {
	local dir=$1 step st secs box out
	{
		echo "# The whole day on a GPU: the run's record"
		echo
		echo "Written by \`tools/gpu_day.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC')); machine, GPU and build times: [env.md](env.md)."
		echo
		echo '| step | status | seconds | time box (s) | outputs |'
		echo '|---|---|---|---|---|'
		for step in $STEPS; do
			[ -f "$dir/status/$step.tsv" ] || continue
			IFS=$'\t' read -r st secs box <"$dir/status/$step.tsv"
			out=
			for f in $(step_outputs "$step"); do
				[ -e "$dir/$f" ] || continue
				case $f in *.md|*.html) f="[$f]($f)" ;; esac
				out+="${out:+, }$f"
			done
			echo "| $step | $st | $secs | $box | $out |"
		done
		echo
		echo "Each step's output is in \`logs/STEP.log\`; the servers' own logs under \`logs/\`."
		[ -f "$dir/status/note" ] && { echo; cat "$dir/status/note"; }
		echo
		echo '## The exact commands'
		for step in $STEPS; do
			[ -s "$dir/commands/$step.txt" ] || continue
			echo
			echo "$step:"
			echo '```'
			cat "$dir/commands/$step.txt"
			echo '```'
		done
	} >"$dir/run.md"
}

# Everything into $OUT: one tarball of the results folder (what
# docs/reports/h200/ holds), run.md beside it for a quick look.
pack_out() {
	[ -n "${OUT:-}" ] && [ -d "$OUT" ] || return 0
	tar -czf "$OUT/h200.tar.gz.part" -C "$R" . && mv "$OUT/h200.tar.gz.part" "$OUT/h200.tar.gz"
	if [ "$(stat -c %s "$OUT/h200.tar.gz")" -gt $((15 * 1024 * 1024)) ]; then
		echo "Note: the server logs made the tarball too large to come back; it was packed without logs/." >"$R/status/note"
		write_run_md "$R"
		tar -czf "$OUT/h200.tar.gz" -C "$R" --exclude=./logs .
	fi
	cp "$R/run.md" "$OUT/run.md" 2>/dev/null
	return 0
}

run_step() { # run_step NAME: time-boxed, its output in logs/NAME.log, status recorded
	local name=$1 planned need var st
	var=d_box_$name
	planned=${!var}
	var=d_need_$name
	need=${!var}
	local box=$(( $(left) - 25 ))
	(( box > planned )) && box=$planned
	: >"$R/commands/$name.txt"
	if (( box < need )); then
		say "step $name: skipped, $(left) s left before the deadline and it needs $need s"
		printf 'not run: out of time (%s s left, needs %s)\t0\t0\n' "$(left)" "$need" >"$R/status/$name.tsv"
		write_run_md "$R"
		return
	fi
	say "step $name: start (time box $box s)"
	local t=$SECONDS rc=0
	GPU_DAY_STEP=$name timeout -k 15 "$box" bash "$ME" _step "$name" >"$R/logs/$name.log" 2>&1 &
	local pid=$!
	trap 'INTERRUPTED=INT; kill -TERM $pid 2>/dev/null' INT
	trap 'INTERRUPTED=TERM; kill -TERM $pid 2>/dev/null' TERM
	wait "$pid" || rc=$?
	# a signal ends the wait at once: wait on until the step has stopped
	# its servers (timeout passes the TERM on to the step's process group)
	while [ -n "$INTERRUPTED" ] && kill -0 "$pid" 2>/dev/null; do
		rc=0
		wait "$pid" || rc=$?
	done
	trap - TERM INT
	case $rc in
	0) st=ok ;;
	*) if [ -n "$INTERRUPTED" ]; then
		st="interrupted (SIG$INTERRUPTED; what it wrote is kept)"
	   elif (( rc == 124 || rc == 137 )); then
		st="timed out after $box s (what it wrote is kept)"
	   else
		st="failed (exit $rc): see logs/$name.log"
	   fi ;;
	esac
	printf '%s\t%s\t%s\n' "$st" $((SECONDS - t)) "$box" >"$R/status/$name.tsv"
	say "step $name: $st in $((SECONDS - t)) s; last lines:"
	tail -n 4 "$R/logs/$name.log" | sed 's/^/    /'
	write_run_md "$R"
	pack_out
}

# A build that failed or was interrupted: its status into run.md, packed
# into $OUT; exit 130 (143) after Ctrl-C (SIGTERM), else 1 saying MSG.
build_failed() { # build_failed MSG
	mkdir -p "$R/logs" "$R/status" "$R/commands"
	cp "$WORK/build.status" "$R/status/build.tsv" 2>/dev/null
	cp "$WORK/build.log" "$R/logs/build.log" 2>/dev/null
	write_run_md "$R"
	pack_out
	case ${INTERRUPTED:-} in
	INT) exit 130 ;;
	TERM) exit 143 ;;
	esac
	die "$1"
}

load_build() {
	[ -f "$WORK/build.ok" ] || return 1
	# shellcheck disable=SC1091
	. "$WORK/build.ok"
	[ -x "$SERVER" ] && [ -s "$MODEL" ]
}

pick_curl() {
	if command -v curl >/dev/null && [ -z "${GPU_DAY_CARRIED_CURL:-}" ]; then
		CURL_USED="$(command -v curl) (this machine's)"
		unset GPU_DAY_CURL
	else
		CURL_USED="Debian's, carried (.gpu)"
		export GPU_DAY_CURL=$BIN/curl
	fi
	export CURL_USED
}

# The steps asked for, checked before anything long (a build) starts.
check_steps() {
	local s
	for s in "$@"; do
		case $s in env|cold|accuracy|prefix|kv) ;; *) die "unknown step '$s' (env cold accuracy prefix kv)" ;; esac
	done
}

cmd_run() {
	check_steps "$@"
	scale
	export GPU_DAY_DEADLINE=${GPU_DAY_DEADLINE:-$(( GPU_DAY_T0 + ${GPU_DAY_BUDGET:-570} ))}
	local want=$SHAPE
	if ! load_build || [ "$SHAPE" != "$want" ]; then
		SHAPE=$want
		say "no build here for shape $SHAPE (a fresh machine?): building first"
		cmd_build || build_failed "the build failed; nothing to run"
		load_build || die "the build left no server or model"
	fi
	export SERVER MODEL
	pick_curl
	local steps=("$@")
	(( ${#steps[@]} )) || steps=(env cold accuracy prefix kv)
	local s
	mkdir -p "$R/logs" "$R/status" "$R/commands"
	cp "$WORK/build.status" "$R/status/build.tsv" 2>/dev/null
	cp "$WORK/build.log" "$R/logs/build.log" 2>/dev/null
	say "run: ${steps[*]} -> $R ($(left) s before the deadline)"
	# Ctrl-C or SIGTERM stops the step that runs and the run: the steps
	# after it are recorded as not run, the results still packed
	INTERRUPTED=
	for s in "${steps[@]}"; do
		if [ -n "$INTERRUPTED" ]; then
			printf 'not run: interrupted (SIG%s)\t0\t0\n' "$INTERRUPTED" >"$R/status/$s.tsv"
			continue
		fi
		run_step "$s"
	done
	if [ -n "$INTERRUPTED" ]; then
		write_run_md "$R"
		pack_out
		say "interrupted (SIG$INTERRUPTED); results so far in $R${OUT:+, packed into $OUT/h200.tar.gz}"
		[ "$INTERRUPTED" = INT ] && exit 130
		exit 143
	fi
	write_run_md "$R"
	pack_out
	say "run done; results in $R${OUT:+, packed into $OUT/h200.tar.gz}"
	local bad=0
	for s in "${steps[@]}"; do
		[[ $(cut -f1 "$R/status/$s.tsv") == ok ]] || bad=1
	done
	return $bad
}

# ---------------------------------------------------------- dry run (here)
cmd_dry_run() {
	local full=0
	[ "${1:-}" = --full-build ] && full=1
	local w
	w=$(mktemp -d "${TMPDIR:-/tmp}/gpu-day-dry.XXXXXX") || die "mktemp failed"
	# shellcheck disable=SC2064
	[ -n "${GPU_DAY_KEEP:-}" ] || trap "rm -rf '$w'" EXIT
	mkdir -p "$w/out"
	export GPU_DAY_PACK=$w/pack GPU_DAY_WORK=$w/work GPU_DAY_SCALE=tiny OUT=$w/out
	export GPU_DAY_RESULTS=$w/work/h200
	# the carried curl, as on a machine without one
	export GPU_DAY_CARRIED_CURL=1
	if (( full )); then
		# the same build as on the GPU, from the packed source, without CUDA
		export GPU_DAY_CMAKE="" GPU_DAY_JOBS=${GPU_DAY_JOBS:-2}
	else
		TTFT_LLAMA_SERVER=$(tools/engine.sh server) || die "no CPU llama-server (tools/engine.sh server)"
		export TTFT_LLAMA_SERVER
	fi
	say "dry run in $w (tiny scale, CPU; $([ $full = 1 ] && echo 'llama-server built from the pack' || echo "prebuilt $TTFT_LLAMA_SERVER"))"
	bash "$ME" pack || die "pack failed"
	local rc=0
	GPU_DAY_BUDGET=${GPU_DAY_BUDGET:-$([ $full = 1 ] && echo 2400 || echo 900)} bash "$ME" all || rc=$?
	say "what came back in \$OUT:"
	ls -la "$OUT" | sed 's/^/    /'
	local got
	got=$(tar -tzf "$OUT/h200.tar.gz" 2>/dev/null | sort)
	local f miss=()
	for f in run.md env.md status/build.tsv status/env.tsv status/cold.tsv status/accuracy.tsv \
		status/prefix.tsv status/kv.tsv commands/cold.txt commands/kv.txt cold.md cold.html cold.json cold-shim.json \
		cold-trace.json cold-waterfall.svg accuracy.md accuracy.json prefix.md prefix.html prefix.json \
		prefix-prefix.svg kv.md kv.html kv.json; do
		grep -qx "./$f" <<<"$got" || miss+=("$f")
	done
	(( full )) && ! grep -qx ./logs/build.log <<<"$got" && miss+=(logs/build.log)
	grep -H . "$GPU_DAY_RESULTS"/status/*.tsv 2>/dev/null | sed "s#^$GPU_DAY_RESULTS/status/#    #"
	local st
	for st in "$GPU_DAY_RESULTS"/status/*.tsv; do
		[[ $(cut -f1 "$st") == ok ]] || { say "dry run: step ${st##*/} did not end ok"; rc=1; }
	done
	(( ${#miss[@]} == 0 )) || { say "dry run: missing from the tarball: ${miss[*]}"; rc=1; }
	[ "$(find "$OUT" -type f | wc -l)" -le 8 ] || { say "dry run: more than 8 files in \$OUT"; rc=1; }
	(( rc == 0 )) && say "dry run passed: every step ok, every output in \$OUT/h200.tar.gz" ||
		say "dry run FAILED (exit $rc)${GPU_DAY_KEEP:+; kept $w}"
	return $rc
}

# a command that takes no arguments, or only those it names, refuses any
# other before it starts (a review: 'dry-run --full' ran the prebuilt dry
# run, its typo unsaid)
no_more() { # CMD ALLOWED... -- ARGS...
	local cmd=$1 a ok; shift
	local allowed=()
	while [ "$1" != -- ]; do allowed+=("$1"); shift; done
	shift
	for a in "$@"; do
		ok=0
		for x in "${allowed[@]}"; do [ "$a" = "$x" ] && ok=1; done
		(( ok )) || die "$cmd: unexpected argument '$a' (tools/gpu_day.sh --help)"
	done
	(( $# <= 1 )) || die "$cmd: one argument at most (tools/gpu_day.sh --help)"
}

case "${1:-}" in
pack) shift; no_more pack -- "$@"; cmd_pack ;;
build) shift; no_more build -- "$@"; log_to_out; cmd_build ;;
run) shift; log_to_out; cmd_run "$@" ;;
all)
	shift
	log_to_out
	check_steps "$@"
	scale
	export GPU_DAY_DEADLINE=${GPU_DAY_DEADLINE:-$(( GPU_DAY_T0 + ${GPU_DAY_BUDGET:-570} ))}
	cmd_build || build_failed "the build failed"
	cmd_run "$@" ;;
dry-run) shift; no_more dry-run --full-build -- "$@"; cmd_dry_run "$@" ;;
report)
	[ -d "${2:-}/status" ] && (( $# == 2 )) ||
		die "usage: tools/gpu_day.sh report DIR (a results folder with status/)"
	write_run_md "$2"
	echo "$2/run.md" ;;
_step)
	scale
	load_build || die "no build"
	export SERVER MODEL
	"step_$2" ;;
-h|--help|"") sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; [ -n "${1:-}" ] ;;
-V|--version) echo "gpu_day.sh (ttftshim $(git describe --always --dirty 2>/dev/null || echo unknown)), llama.cpp $LLAMA_COMMIT" ;;
*) die "unknown command '$1' (pack | build | run | all | dry-run)" ;;
esac
