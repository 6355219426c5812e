#!/usr/bin/env bash
# Builds StreamRelayFFI.xcframework, the binary an iOS or macOS app links:
# libstreamrelay as a static library for iOS devices, the iOS simulator
# (arm64 + x86_64) and macOS (arm64 + x86_64), with the UniFFI C header and a
# module map naming the module StreamRelayFFI. Writes it beside Package.swift,
# where the package picks it up instead of the Linux system library, and a
# zip with its SwiftPM checksum for a remote binaryTarget.
#
# Needs macOS with Xcode (xcodebuild, lipo) and rustup. It cannot run on the
# Linux machine the tests run on, so it is untested; it exits with a message
# when it is not on a Mac.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=StreamRelayFFI.xcframework

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null 2>&1; then
  echo "build-xcframework.sh needs macOS with Xcode (xcodebuild); this is $(uname -s)." >&2
  exit 1
fi

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  (cd "$root" && cargo build --release -p streamrelay-ffi --target "$t")
done
lib() { echo "$target_dir/$1/release/libstreamrelay.a"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ios" "$work/ios-sim" "$work/macos" "$work/headers"
cp "$(lib aarch64-apple-ios)" "$work/ios/libstreamrelay.a"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-sim/libstreamrelay.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libstreamrelay.a"

# The generated header, and a module map without `link`: the XCFramework
# carries the library itself.
cp Sources/StreamRelayFFI/StreamRelayFFI.h "$work/headers/"
printf '%s\n' 'module StreamRelayFFI {' '    header "StreamRelayFFI.h"' '    export *' '}' \
  >"$work/headers/module.modulemap"

rm -rf "$out" "$out.zip"
xcodebuild -create-xcframework \
  -library "$work/ios/libstreamrelay.a" -headers "$work/headers" \
  -library "$work/ios-sim/libstreamrelay.a" -headers "$work/headers" \
  -library "$work/macos/libstreamrelay.a" -headers "$work/headers" \
  -output "$out"
zip -qry "$out.zip" "$out"
echo "wrote bindings-swift/$out and $out.zip"
echo "checksum for .binaryTarget(url:checksum:): $(swift package compute-checksum "$out.zip")"
