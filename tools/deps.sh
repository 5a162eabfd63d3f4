#!/usr/bin/env bash
# deps.sh — make sure this machine has what a make goal needs, before
# anything is built. The Makefile runs it first for `make`, `make test`,
# `make demo` (and bench, sanitize, tsan); .ci/run and the README use it too.
#
#   tools/deps.sh [build|test|demo|ci]     (default: test)
#
# It looks for each tool and header itself (not for package names, so a
# machine that has them some other way passes). When something is missing:
# as root it runs `apt-get update` and `apt-get install -y` for the Debian
# packages that provide it; otherwise it prints the one `sudo apt-get
# install …` line to run and exits 1, so that make stops before doing
# anything else. TTFT_SLOW=1 makes `test` need the engine's tools as well.
set -euo pipefail

goal=${1:-test}
case "$goal" in
	all | build) need=build ;;
	test | sanitize | tsan | bench | test-stress) need=test ;;
	demo) need=demo ;;
	ci) need=ci ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "deps.sh: unknown goal '$goal' (build, test, demo or ci)" >&2; exit 2 ;;
esac
[ "$need" = test ] && [ "${TTFT_SLOW:-0}" = 1 ] && need=ci

missing=() pkgs=()
want() { # want PACKAGE WHAT: record a missing piece and the package that provides it
	missing+=("$2")
	case " ${pkgs[*]-} " in *" $1 "*) ;; *) pkgs+=("$1") ;; esac
}
have() { command -v "$1" >/dev/null 2>&1; }
header() { # header FILE.h: does the C compiler find it?
	have cc && printf '#include <%s>\n' "$1" | cc -E -x c - >/dev/null 2>&1
}

# to build the tools (make, make all)
have cc || want build-essential "a C compiler (cc)"
have make || want build-essential "make"
have pkg-config || want pkg-config "pkg-config"
header curl/curl.h || want libcurl4-openssl-dev "libcurl's headers (curl/curl.h)"
header cjson/cJSON.h || want libcjson-dev "cJSON's headers (cjson/cJSON.h)"

if [ "$need" != build ]; then
	# the suites: Check, and the real clients they run under the shim
	if [ "$need" != demo ]; then
		header check.h || want check "the Check unit-test library (check.h)"
		have python3 || want python3 "python3 (the Python clients)"
		have node || want nodejs "node (the Node fetch client)"
		have curl || want curl "curl (the curl client)"
		have pgrep || want procps "pgrep"
		# test_engine_script runs engine.sh's steps; https probes need CAs
		have git || want git "git"
		[ -s /etc/ssl/certs/ca-certificates.crt ] || want ca-certificates "CA certificates"
		# test_tls: the TLS fixture links OpenSSL, the openssl command makes
		# its certificate
		header openssl/ssl.h || want libssl-dev "OpenSSL's headers (openssl/ssl.h)"
		have openssl || want openssl "the openssl command"
		# test_sweep renders the charts and the HTML report in a real browser
		have chromium || want chromium "chromium (headless, for test_sweep)"
	fi
	# make bench: instructions from callgrind, the strace column
	if [ "$goal" = bench ] || [ "$need" = ci ]; then
		have valgrind || want valgrind "valgrind (callgrind instruction counts)"
		have strace || want strace "strace (the bench's strace column)"
	fi
	# CI: the Python clients test_tls wraps when they are there (optional:
	# it falls back to http.client and asyncio; Debian's python3 is the one
	# apt can give them to)
	if [ "$need" = ci ]; then
		py=/usr/bin/python3
		[ -x $py ] || py=python3
		$py -c 'import requests' 2>/dev/null || want python3-requests "Python's requests"
		$py -c 'import aiohttp' 2>/dev/null || want python3-aiohttp "Python's aiohttp"
		# make test-stress's CPU hogs (optional: it falls back to shell
		# loops); clang for the fuzz targets
		have stress-ng || want stress-ng "stress-ng (make test-stress's CPU hogs)"
		have clang || want clang "clang (the fuzz targets)"
	fi
	# the embedded engine: llama.cpp's source comes from npm, built with cmake
	if [ "$need" = demo ] || [ "$need" = ci ]; then
		have c++ || want build-essential "a C++ compiler (c++)"
		have cmake || want cmake "cmake"
		have ninja || want ninja-build "ninja"
		have git || want git "git"
		have npm || want npm "npm"
		have ccache || want ccache "ccache (rebuilds in seconds)"
		[ -s /etc/ssl/certs/ca-certificates.crt ] || want ca-certificates "CA certificates (npm's registry is https)"
	fi
fi

[ ${#missing[@]} -eq 0 ] && exit 0

printf 'deps: missing for "make %s": %s\n' "$goal" "$(IFS=,; echo "${missing[*]}" | sed 's/,/, /g')" >&2
if ! have apt-get; then
	echo "deps: no apt-get here: install the above with your package manager, then run make again" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: install them with this one line, then run make again:" >&2
	echo "  sudo apt-get install -y ${pkgs[*]}" >&2
	exit 1
fi
echo "deps: installing ${pkgs[*]} (apt-get, as root)" >&2
export DEBIAN_FRONTEND=noninteractive
# apt-get, waiting while another apt holds its locks (a second make's, or
# a fresh machine's daily upgrade at boot): update's lists lock has no
# timeout option, so the call is tried again while its error says so
apt_wait() {
	local out i
	for i in $(seq 1 120); do
		if out=$(apt-get -o DPkg::Lock::Timeout=600 "$@" 2>&1); then
			[ -z "$out" ] || printf '%s\n' "$out" >&2
			return 0
		fi
		case $out in
		*"Could not get lock"* | *"Unable to lock"* | *"Unable to acquire the dpkg frontend lock"*)
			[ "$i" -gt 1 ] || echo "deps: another apt-get holds its lock: waiting (10 minutes at most)" >&2
			sleep 5 ;;
		*)
			printf '%s\n' "$out" >&2
			return 1 ;;
		esac
	done
	printf '%s\n' "$out" >&2
	return 1
}
apt_wait update -qq || { echo "deps: apt-get update failed (see above)" >&2; exit 1; }
apt_wait install -y -qq --no-install-recommends "${pkgs[@]}" ||
	{ echo "deps: apt-get install ${pkgs[*]} failed (see above)" >&2; exit 1; }
# what was installed must now be found
unmet=()
for p in "${pkgs[@]}"; do
	case $p in
		build-essential) have cc && have make || unmet+=("$p") ;;
		libcurl4-openssl-dev) header curl/curl.h || unmet+=("$p") ;;
		libcjson-dev) header cjson/cJSON.h || unmet+=("$p") ;;
		check) header check.h || unmet+=("$p") ;;
		nodejs) have node || unmet+=("$p") ;;
		ninja-build) have ninja || unmet+=("$p") ;;
		procps) have pgrep || unmet+=("$p") ;;
		ca-certificates) [ -s /etc/ssl/certs/ca-certificates.crt ] || unmet+=("$p") ;;
		libssl-dev) header openssl/ssl.h || unmet+=("$p") ;;
		python3-requests | python3-aiohttp) ;; # optional: the tests fall back
		stress-ng) ;;                          # optional: shell loops instead
		*) have "$p" || unmet+=("$p") ;;
	esac
done
if [ ${#unmet[@]} -ne 0 ]; then
	echo "deps: installed, but still not found: ${unmet[*]}" >&2
	exit 1
fi
echo "deps: done" >&2
