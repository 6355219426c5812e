#!/usr/bin/env bash
# The crates a user depends on or installs are publishable, and their
# packages hold what they should:
#
#   1. `cargo publish --dry-run --workspace`: packages every crate that is not
#      `publish = false` (streamrelay, streamrelay-node, streamrelay-sim, streamrelay-vectors,
#      streamrelay-cli, streamrelay-ffi) and builds each from its package,
#      resolving the workspace's unpublished crates from the packages made
#      in the same run (needs the crates.io index; uploads nothing);
#   2. each package holds its README and both licence files and no tests,
#      benches, fixtures, snapshots, corpora or figures, and stays under a
#      size budget; prints each package's files and sizes;
#   3. the library crates' docs build as docs.rs would build them;
#   4. `cargo install --path cli` into a temporary root gives a working
#      `streamrelay` command.
#
# About 20 s when the workspace is built (scripts/test.sh runs it after its
# release build); a first run compiles every crate once more from its package.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
budget=$((256 * 1024)) # bytes, compressed, per package

step() { printf '\n--> %s\n' "$*"; }

step "cargo publish --dry-run --workspace"
log=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$log" "$tmp"' EXIT
# --allow-dirty: this checks the packages, not whether the work tree is
# committed. Cargo warns once per test, bench and example left out of a package
# (on purpose: see `include` in each Cargo.toml); those lines are dropped.
if ! cargo publish --dry-run --workspace --allow-dirty >"$log" 2>&1; then
  grep -v 'warning: ignoring \(test\|benchmark\|example\) ' "$log" | tail -n 60
  echo "cargo publish --dry-run failed" >&2
  exit 1
fi
grep -E '^ *(Packaging|Packaged|Verifying)' "$log" | sed 's/^ */  /'
echo "  (a dry run: nothing was uploaded)"

step "package contents and sizes"
crates=(streamrelay streamrelay-node streamrelay-sim streamrelay-vectors streamrelay-cli streamrelay-ffi)
# The same packages again into target/package/ (the dry run keeps its own in
# a scratch directory), without the build this time.
rm -f "$target"/package/*.crate
pflags=()
for name in "${crates[@]}"; do pflags+=(-p "$name"); done
cargo package -q --no-verify --allow-dirty "${pflags[@]}" 2>&1 |
  grep -v 'warning: ignoring \(test\|benchmark\|example\) \|manifest has no documentation\|^ *|\|^ *= note: see' || true
bad=0
printf '  %-26s %6s %11s %11s\n' package files compressed unpacked
for name in "${crates[@]}"; do
  crate=$(ls "$target"/package/"$name"-[0-9]*.crate)
  tar -tzf "$crate" | sed 's|^[^/]*/||' | sort >"$tmp/$name.files"
  files=$(wc -l <"$tmp/$name.files")
  size=$(stat -c %s "$crate")
  unpacked=$(tar -tvzf "$crate" | awk '{ s += $3 } END { print s }')
  printf '  %-26s %6d %11d %11d\n' "$(basename "$crate" .crate)" "$files" "$size" "$unpacked"
  for need in README.md LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$need" "$tmp/$name.files" || { echo "  $name: $need is missing" >&2; bad=1; }
  done
  if grep -E '(^|/)(tests|benches|fuzz|corpus|corpora|fixtures|snapshots|figures)/|\.snap$' "$tmp/$name.files"; then
    echo "  $name: the files above are test material and do not belong in the package" >&2
    bad=1
  fi
  [ "$size" -le "$budget" ] || { echo "  $name: $size bytes is over the $budget-byte budget" >&2; bad=1; }
  tar -xzOf "$crate" --wildcards '*/LICENSE-APACHE' | cmp -s - LICENSE-APACHE ||
    { echo "  $name: LICENSE-APACHE differs from the repository's" >&2; bad=1; }
  tar -xzOf "$crate" --wildcards '*/LICENSE-MIT' | cmp -s - LICENSE-MIT ||
    { echo "  $name: LICENSE-MIT differs from the repository's" >&2; bad=1; }
  if grep -q 'example\.invalid' <(tar -xzOf "$crate" --wildcards '*/Cargo.toml'); then
    echo "  $name: placeholder address in Cargo.toml" >&2
    bad=1
  fi
done
[ "$bad" = 0 ] || exit 1
if [ "${VERBOSE:-0}" = 1 ]; then
  for name in "${crates[@]}"; do sed "s|^|  $name: |" "$tmp/$name.files"; done
fi

step "docs.rs: the library crates' docs build as docs.rs builds them (all features, --cfg docsrs, warnings denied)"
RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo doc -q --no-deps --all-features \
  -p streamrelay -p streamrelay-node -p streamrelay-sim -p streamrelay-vectors
echo "  cargo doc: ok (streamrelay-ffi builds no rlib and streamrelay-cli is a binary: no Rust API pages)"

step "cargo install --path cli (into a temporary root)"
cargo install -q --locked --path cli --root "$tmp/root"
bin="$tmp/root/bin/streamrelay"
"$bin" --version
hex="03050b110700060000000100000000ffffffff014997000001000001000001000020709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c000100000100000100000100000100000100000100"
# Whole outputs first: `grep -q` would close the pipe before the command ends.
out=$("$bin" decode "$hex")
grep -q '"typeName": "sync"' <<<"$out" || { echo "installed streamrelay cannot decode" >&2; exit 1; }
out=$("$bin" sim --list)
grep -q '^figure-a ' <<<"$out" || { echo "installed streamrelay has no sim scenarios" >&2; exit 1; }
echo "  $bin: --version, decode and sim --list work"
echo "packages: ok"
