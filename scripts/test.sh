#!/usr/bin/env bash
# Runs every test of scry: formatting, lints, unit, snapshot and live-kernel tests.
# Installs what the tests need first (the reference peers are test oracles only).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -e /usr/include/x86_64-linux-gnu/sys/sdt.h ] || [ -e /usr/include/sys/sdt.h ] || need+=(systemtap-sdt-dev)
command -v bpftrace >/dev/null || need+=(bpftrace)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v ip >/dev/null || need+=(iproute2)
command -v prometheus >/dev/null || need+=(prometheus)
command -v cc >/dev/null || need+=(gcc)
# File systems for the ext4/xfs/btrfs-slower tests (loop devices), `script` for bashreadline.
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)
command -v mkfs.btrfs >/dev/null || need+=(btrfs-progs)
command -v script >/dev/null || need+=(bsdutils)
command -v mount >/dev/null || need+=(mount)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "warning: missing ${need[*]} (run as root to install them)" >&2
    fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --no-fail-fast 2>&1
