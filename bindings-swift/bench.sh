#!/usr/bin/env bash
# The Swift Node benchmark (not a test): messages per second through three
# Nodes on 127.0.0.1 driven from Swift (bench/main.swift), release builds of
# libstreamrelay and of the Swift code, in the same trixie chroot as
# run-tests.sh (setup-toolchain.sh), staged at /tmp/streamrelay-swift-bench.
#
#   bash bindings-swift/bench.sh [messages]      (default 20000)
set -euo pipefail
cd "$(dirname "$0")"
pkg_src=$(pwd)
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)

chroot_dir=$(bash ./setup-toolchain.sh | tail -n 1)
bash "$root/scripts/gen-bindings.sh"
(cd "$root" && cargo build -q --release -p streamrelay-ffi)

inner=/tmp/streamrelay-swift-bench
stage="$chroot_dir$inner"
"${sudo[@]}" mkdir -p "$stage/Sources/NodeBench" "$stage/lib"
"${sudo[@]}" rm -rf "$stage/Sources/StreamRelay" "$stage/Sources/StreamRelayFFI"
tar -C "$pkg_src" -cf - Sources | "${sudo[@]}" tar -C "$stage" -xf -
"${sudo[@]}" cp bench/main.swift "$stage/Sources/NodeBench/main.swift"
"${sudo[@]}" cp "$target/release/libstreamrelay.so" "$stage/lib/"
"${sudo[@]}" tee "$stage/Package.swift" >/dev/null <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "NodeBench",
    targets: [
        .systemLibrary(name: "StreamRelayFFI", path: "Sources/StreamRelayFFI"),
        .target(name: "StreamRelay", dependencies: ["StreamRelayFFI"]),
        .executableTarget(name: "NodeBench", dependencies: ["StreamRelay"]),
    ]
)
SWIFT
"${sudo[@]}" chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root RUST_BACKTRACE=0 \
  bash -c "cd $inner && swift build -c release -Xlinker -L$inner/lib -Xlinker -rpath -Xlinker $inner/lib 2>&1 | tail -n 3 && .build/release/NodeBench ${1:-20000}"
