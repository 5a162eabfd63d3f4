#!/bin/sh
# pack.sh DIR — bench_shim, the shim, and this machine's strace with the
# libraries it needs, in DIR, to time the shim on a machine that has no
# strace or compiler (the H200 host: docs/performance.md, "On the H200
# host"). There:  cd DIR && PATH=$PWD:$PATH ./bench_shim ./libttftshim.so .
# (no valgrind there: the instruction columns say n/a). With bench_analyze
# built (make build/bench_analyze), the analyzer's bench too, which needs
# only libc: there  cd DIR && ./bench_analyze .
set -eu
if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	echo "usage: bench/pack.sh DIR   (after make; DIR is created)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
for f in "$here/build/bench_shim" "$here/build/libttftshim.so"; do
	[ -f "$f" ] || { echo "pack.sh: no $f (run make first)" >&2; exit 1; }
done
st=$(command -v strace) || { echo "pack.sh: no strace here (apt-get install -y strace)" >&2; exit 1; }
mkdir -p "$1/lib"
cp "$here/build/bench_shim" "$here/build/libttftshim.so" "$1/"
if [ -f "$here/build/bench_analyze" ] && [ -f "$here/build/ttft-analyze" ]; then
	cp "$here/build/bench_analyze" "$here/build/ttft-analyze" "$1/"
fi
cp "$st" "$1/lib/strace.bin"
# strace's own libraries (not libc's, which the other machine has)
ldd "$st" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
	case "$(basename "$lib")" in
	libc.so.*|ld-linux*) ;;
	*) cp -L "$lib" "$1/lib/" ;;
	esac
done
cat > "$1/strace" <<'EOF'
#!/bin/sh
d=$(dirname "$(readlink -f "$0")")
exec env LD_LIBRARY_PATH="$d/lib" "$d/lib/strace.bin" "$@"
EOF
chmod +x "$1/strace"
echo "pack.sh: $1 ($(du -sh "$1" | cut -f1)); there: cd $1 && PATH=\$PWD:\$PATH ./bench_shim ./libttftshim.so ."
[ ! -f "$1/bench_analyze" ] || echo "pack.sh: and the analyzer's: cd $1 && ./bench_analyze ."
