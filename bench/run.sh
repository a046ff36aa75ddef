#!/usr/bin/env bash
# Benchmarks scry against the installed bpftrace (0.17) in one run and writes BENCHMARKS.md:
# start-up of `BEGIN { exit(); }`, peak RSS, attach+detach of every syscalls:sys_enter_*
# tracepoint, and per-event overhead on a tight getppid() loop. Needs root.
#
#   bench/run.sh                  # release build, then measure, then write BENCHMARKS.md
#   bench/run.sh --no-build       # reuse target/release/scry
#   RUNS=30 bench/run.sh          # start-up runs per tracer (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[ "${1:-}" = "--no-build" ] && build=0

[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (it loads BPF programs)" >&2; exit 1; }
missing=()
for tool in bpftrace hyperfine cc python3; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ -x /usr/bin/time ] || missing+=("/usr/bin/time (apt-get install time)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench/run.sh: missing ${missing[*]} (apt-get install -y bpftrace hyperfine time gcc python3)" >&2
    exit 1
fi

if [ "$build" = 1 ]; then
    cargo build --release --quiet -p scry
fi
[ -x target/release/scry ] || { echo "no target/release/scry: run without --no-build" >&2; exit 1; }

work=$(mktemp -d /tmp/scry-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/syscall_loop" bench/syscall_loop.c

python3 bench/bench.py --scry target/release/scry --bpftrace "$(command -v bpftrace)" \
    --loop "$work/syscall_loop" --work "$work" --runs "${RUNS:-20}" --out BENCHMARKS.md
