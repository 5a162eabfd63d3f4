#!/usr/bin/env bash
# make check-layers: every #include "..." points down the layering
# (docs/layout.md) or sideways within its folder, never up, never by a
# relative path. Prints each offence (file, header, where the header
# lives) and fails if there is one.
set -u
cd "$(dirname "$0")/.."
# folder: the folders its files may include from (its own first)
rules="
shim/core:shim/core
shim/preload:shim/preload shim/core
tools/lib:tools/lib shim/core
probe:probe tools/lib shim/core
tools/cold:tools/cold probe tools/lib shim/core
tools:tools/cold probe tools/lib shim/core
"
layers="shim/core shim/preload tools/lib probe tools/cold"
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
[ $bad -eq 0 ] && echo "layers: every include points down (docs/layout.md)"
exit $bad
