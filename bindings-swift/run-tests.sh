#!/usr/bin/env bash
# The Swift bindings' tests (CI runs this script): sets up Swift 6 if absent
# (setup-toolchain.sh: a Debian trixie chroot with `swiftlang`, about a
# minute on a fast mirror), builds libstreamrelay and regenerates the
# bindings (scripts/gen-bindings.sh), stages this package with the library
# and the vector files inside the chroot, and runs `swift test` (XCTest):
#
#   - the golden vectors through the Swift API (every case through
#     `vectorsCheck`, and the key/id/NAT/decode kinds case by case);
#   - typed errors, and a panic coming back as an error;
#   - two peers and an introducer on 127.0.0.1 driven by a poll(2) loop
#     (PollHost), exchanging a subcluster message, bounded by a deadline
#     (STREAMRELAY_TEST_DEADLINE_MS, default 30000).
#
# Then builds the consumer package (consumer/: depends on this package by
# path, as an app would) and runs its program, the README's getting-started
# example.
#
# Needs root for the chroot (sudo is used when not root). Exits non-zero when
# a test fails or the consumer does not build or run; the last line says
# "swift: tests and the consumer package passed".
set -euo pipefail
cd "$(dirname "$0")"
pkg_src=$(pwd)
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
export RUST_BACKTRACE=0

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> Swift toolchain"
chroot_dir=$(bash ./setup-toolchain.sh | tail -n 1)

echo "==> build libstreamrelay (debug, feature vectors) and regenerate the bindings"
bash "$root/scripts/gen-bindings.sh"

# The package as the chroot sees it: /tmp/streamrelay-swift (its .build is
# kept between runs; SwiftPM does not notice module map edits, so a changed
# FFI module starts over).
inner=/tmp/streamrelay-swift
stage="$chroot_dir$inner"
echo "==> stage the package in $stage"
"${sudo[@]}" mkdir -p "$stage"
if ! cmp -s Sources/StreamRelayFFI/module.modulemap "$stage/Sources/StreamRelayFFI/module.modulemap" ||
  ! cmp -s Sources/StreamRelayFFI/StreamRelayFFI.h "$stage/Sources/StreamRelayFFI/StreamRelayFFI.h"; then
  "${sudo[@]}" rm -rf "$stage/.build"
fi
"${sudo[@]}" rm -rf "$stage/Sources" "$stage/Tests" "$stage/lib-shared" "$stage/vectors"
"${sudo[@]}" mkdir -p "$stage/lib-shared" "$stage/vectors"
tar -C "$pkg_src" -cf - Package.swift Sources Tests | "${sudo[@]}" tar -C "$stage" -xf -
"${sudo[@]}" cp "$target/debug/libstreamrelay.so" "$stage/lib-shared/"
"${sudo[@]}" cp "$root"/vectors/*.json "$stage/vectors/"

echo "==> swift test (in the chroot)"
"${sudo[@]}" chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
  STREAMRELAY_VECTORS_DIR="$inner/vectors" RUST_BACKTRACE=0 \
  ${STREAMRELAY_TEST_DEADLINE_MS:+STREAMRELAY_TEST_DEADLINE_MS=$STREAMRELAY_TEST_DEADLINE_MS} \
  bash -c "cd $inner && swift test --disable-swift-testing \
    -Xlinker -L$inner/lib-shared -Xlinker -rpath -Xlinker $inner/lib-shared 2>&1" | tee "$log"
grep -q 'Executed [0-9]* tests, with 0 failures' "$log" || { echo "swift test failed" >&2; exit 1; }

# The consumer: a separate package (consumer/) that depends on this one by
# path, as an app would, staged as <dir>/bindings-swift/consumer so the
# dependency keeps its identity ("bindings-swift"). Its .build is kept
# between runs, like the tests'.
consumer_inner=/tmp/streamrelay-swift-consumer
consumer_stage="$chroot_dir$consumer_inner"
echo "==> the consumer package: swift build, then run it (in the chroot, $consumer_inner)"
"${sudo[@]}" mkdir -p "$consumer_stage/bindings-swift"
if ! cmp -s Sources/StreamRelayFFI/module.modulemap "$consumer_stage/bindings-swift/Sources/StreamRelayFFI/module.modulemap" ||
  ! cmp -s Sources/StreamRelayFFI/StreamRelayFFI.h "$consumer_stage/bindings-swift/Sources/StreamRelayFFI/StreamRelayFFI.h"; then
  "${sudo[@]}" rm -rf "$consumer_stage/bindings-swift/consumer/.build"
fi
"${sudo[@]}" rm -rf "$consumer_stage/bindings-swift/Sources" "$consumer_stage/bindings-swift/Tests" \
  "$consumer_stage/bindings-swift/consumer/Sources" "$consumer_stage/lib-shared"
"${sudo[@]}" mkdir -p "$consumer_stage/lib-shared"
tar -C "$pkg_src" -cf - Package.swift Sources Tests consumer/Package.swift consumer/Sources |
  "${sudo[@]}" tar -C "$consumer_stage/bindings-swift" -xf -
"${sudo[@]}" cp "$target/debug/libstreamrelay.so" "$consumer_stage/lib-shared/"
"${sudo[@]}" chroot "$chroot_dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root RUST_BACKTRACE=0 \
  bash -c "cd $consumer_inner/bindings-swift/consumer && swift build \
    -Xlinker -L$consumer_inner/lib-shared -Xlinker -rpath -Xlinker $consumer_inner/lib-shared 2>&1 | tail -n 3 &&
    .build/debug/GettingStarted" | tee "$log"
grep -q '^libstreamrelay .*: send type 1 ' "$log" || { echo "the consumer did not run" >&2; exit 1; }
echo "swift: tests and the consumer package passed"
