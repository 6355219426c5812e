#!/usr/bin/env bash
# Builds libstreamrelay (debug, with the `vectors` feature the binding tests
# use) and uniffi-bindgen, then regenerates the UniFFI bindings in library
# mode from the built library:
#
#   bindings-swift/Sources/StreamRelay/StreamRelay.swift
#   bindings-swift/Sources/StreamRelayFFI/StreamRelayFFI.h
#   bindings-kotlin/src/main/kotlin/dev/streamrelay/uniffi/streamrelay.kt
#
# (bindings-swift/Sources/StreamRelayFFI/module.modulemap is written by hand:
# the generated one has no `link` line.)
#
#   bash scripts/gen-bindings.sh           regenerate
#   bash scripts/gen-bindings.sh --check   regenerate, then fail if the
#                                          committed files differ or are not
#                                          committed at all (CI)
#
# The generated files do not depend on the `vectors` feature: the library
# exports `vectors_check` either way (without the feature it throws
# `Unsupported`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}

check=0
[ "${1:-}" = "--check" ] && check=1

cargo build -q -p streamrelay-ffi -p uniffi-bindgen --features streamrelay-ffi/vectors
lib="$target/debug/libstreamrelay.so"
bindgen="$target/debug/uniffi-bindgen"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Library mode runs `cargo metadata` to find ffi/uniffi.toml: run it from
# inside the workspace.
"$bindgen" generate --library "$lib" --language swift --no-format --out-dir "$tmp/swift" >/dev/null
"$bindgen" generate --library "$lib" --language kotlin --no-format --out-dir "$tmp/kotlin" >/dev/null

install_file() {
  mkdir -p "$(dirname "$2")"
  cmp -s "$1" "$2" || cp "$1" "$2"
}
install_file "$tmp/swift/StreamRelay.swift" bindings-swift/Sources/StreamRelay/StreamRelay.swift
install_file "$tmp/swift/StreamRelayFFI.h" bindings-swift/Sources/StreamRelayFFI/StreamRelayFFI.h
install_file "$tmp/kotlin/dev/streamrelay/uniffi/streamrelay.kt" \
  bindings-kotlin/src/main/kotlin/dev/streamrelay/uniffi/streamrelay.kt
echo "bindings regenerated from $lib"

if [ "$check" = 1 ]; then
  files=(bindings-swift/Sources/StreamRelay/StreamRelay.swift
    bindings-swift/Sources/StreamRelayFFI/StreamRelayFFI.h
    bindings-swift/Sources/StreamRelayFFI/module.modulemap
    bindings-kotlin/src/main/kotlin/dev/streamrelay/uniffi/streamrelay.kt)
  dirty=$(git status --porcelain -- "${files[@]}")
  if [ -n "$dirty" ]; then
    echo "generated bindings are stale or not committed:" >&2
    echo "$dirty" >&2
    git --no-pager diff --stat -- "${files[@]}" >&2 || true
    echo "run: bash scripts/gen-bindings.sh, then commit the result" >&2
    exit 1
  fi
  echo "generated bindings are fresh"
fi
