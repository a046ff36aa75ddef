#!/usr/bin/env bash
# Builds scry and runs it on a real one-liner: which programs open files, for three seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "scry needs a Rust toolchain (cargo)" >&2; exit 1; }
cargo build --release --quiet -p scry
exec ./target/release/scry -e '
tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
interval:s:3 { exit(); }'
