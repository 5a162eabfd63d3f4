#!/usr/bin/env bash
# make check-layers: every #include "..." points down the layering
# (docs/layout.md) or sideways within its folder, never up, never by a
# relative path; records are written only through the log's one writer.
# Prints each offence (file, header, where the header lives) and fails if
# there is one.
set -u
cd "$(dirname "$0")/.."
# folder: the folders its files may include from (its own first)
rules="
shim/core:shim/core
shim/preload:shim/preload shim/core
tools/lib:tools/lib shim/core
probe:probe tools/lib shim/core
tools/cold:tools/cold probe tools/lib shim/core
tools/sweep:tools/sweep tools/cold probe tools/lib shim/core
tools:tools/sweep tools/cold probe tools/lib shim/core
"
layers="shim/core shim/preload tools/lib probe tools/cold tools/sweep"
home() { # the folder that holds header $1
	for d in $layers tests/support; do
		[ -f "$d/$1" ] && { echo "$d"; return; }
	done
}
bad=0
while IFS=: read -r dir allowed; do
	[ -n "$dir" ] || continue
	for f in "$dir"/*.c "$dir"/*.h; do
		[ -f "$f" ] || continue
		while IFS= read -r inc; do
			h=${inc#*\"}
			h=${h%%\"*}
			case $h in
			*/*) echo "$f: #include \"$h\": include by name; the Makefile's -I paths find it"
			     bad=1; continue ;;
			esac
			where=$(home "$h")
			# not ours (ggml.h for ttft-mkmodel): no arrow to check
			[ -n "$where" ] || continue
			if ! grep -qw -- "$where" <<<"$allowed"; then
				echo "$f: #include \"$h\" reaches up into $where ($dir may use: $allowed)"
				bad=1
			fi
		done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
	done
done <<<"$rules"
# One record writer: ttft_log_put (shim/core/ttft_log.h). Its two halves
# are called apart only by the log itself and by the tests of a writer
# stopped between them.
halves='ttft_log_reserve|ttft_log_publish'
split_ok='shim/core/ttft_log.c shim/core/ttft_log.h tests/unit/test_follow.c tests/unit/test_log.c'
while IFS= read -r f; do
	grep -qw -- "$f" <<<"$split_ok" && continue
	echo "$f: calls $(grep -oEw "$halves" "$f" | sort -u | tr '\n' ' ')- write records with ttft_log_put (the one writer)"
	bad=1
done < <(grep -rlEw --include='*.c' --include='*.h' "$halves" shim tools probe tests bench)
[ $bad -eq 0 ] && echo "layers: every include points down (docs/layout.md); one record writer (ttft_log_put)"
exit $bad
