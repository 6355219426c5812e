#!/usr/bin/env bash
# The getting-started examples in the READMEs are the files the tests build
# and run. A README shows one as a fenced code block right after a marker
#
#   <!-- example: path/from/the/repository/root -->
#
# and this script fails when a block differs from its file (or a marker has
# no block, or names a missing file). Lists what it checked.
#
#   bash scripts/check-examples.sh            every *.md in the repository
#   bash scripts/check-examples.sh FILE.md... only these
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then
  docs=("$@")
else
  mapfile -t docs < <(git ls-files --cached --others --exclude-standard '*.md' | xargs grep -l '<!-- example: ' || true)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checked=0
bad=0
for doc in "${docs[@]}"; do
  # One output file per marker: $tmp/N.path holds the path, $tmp/N.block the block.
  rm -f "$tmp"/*
  awk -v out="$tmp" '
    match($0, /<!-- example: [^ ]+ -->/) {
      n++; path = substr($0, RSTART + 14, RLENGTH - 18)
      print path > (out "/" n ".path"); close(out "/" n ".path")
      want_fence = 1; next
    }
    want_fence && /^```/ { want_fence = 0; inblock = 1; printf "" > (out "/" n ".block"); next }
    want_fence && /^[[:space:]]*$/ { next }
    want_fence { want_fence = 0; next }
    inblock && /^```[[:space:]]*$/ { inblock = 0; close(out "/" n ".block"); next }
    inblock { print >> (out "/" n ".block") }
  ' "$doc"
  for p in "$tmp"/*.path; do
    [ -e "$p" ] || continue
    path=$(cat "$p")
    block="${p%.path}.block"
    if [ ! -f "$block" ]; then
      echo "FAIL $doc: the marker for $path is not followed by a code block" >&2
      bad=$((bad + 1))
    elif [ ! -f "$path" ]; then
      echo "FAIL $doc: $path does not exist" >&2
      bad=$((bad + 1))
    elif ! diff -u "$path" "$block" >"$tmp/diff"; then
      echo "FAIL $doc: the block differs from $path:" >&2
      cat "$tmp/diff" >&2
      bad=$((bad + 1))
    else
      echo "ok   $doc shows $path ($(wc -l <"$path") lines)"
    fi
    checked=$((checked + 1))
  done
done
echo "README examples: $((checked - bad)) match, $bad differ"
[ "$bad" -eq 0 ] && [ "$checked" -gt 0 ]
