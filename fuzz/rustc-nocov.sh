#!/bin/sh
# rustc wrapper for the fuzz builds (fuzz/.cargo/config.toml): no
# SanitizerCoverage in the crypto and RNG crates. Their constant-time code
# is branch-free by design, so coverage there teaches the fuzzer nothing,
# while tracing every compare of a field multiplication and collecting its
# counters made each input several times slower. A trailing
# `-sanitizer-coverage-level=0` overrides cargo-fuzz's level for that crate
# only (the last value of an LLVM option wins); every other crate, and
# AddressSanitizer everywhere, stay as cargo-fuzz builds them.
rustc="$1"
shift
crate=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--crate-name" ]; then crate="$a"; fi
  prev="$a"
done
case "$crate" in
  curve25519_dalek | ed25519_dalek | subtle | sha2 | sha1 | blake2 | salsa20 | \
  poly1305 | crypto_secretbox | universal_hash | cipher | rand_chacha | ppv_lite86)
    case " $* " in
      *sancov-module*) exec "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0 ;;
    esac
    ;;
esac
exec "$rustc" "$@"
