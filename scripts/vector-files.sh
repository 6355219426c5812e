#!/usr/bin/env bash
# Prints the golden vector files, one per line: the files vectors/*.json in
# the format latica-oracle-vectors/1 (vectors/schema.json describes them and
# is not one). Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
found=0
for f in vectors/*.json; do
  if grep -q '"format": *"latica-oracle-vectors/1"' "$f"; then
    echo "$PWD/$f"
    found=1
  fi
done
[ "$found" = 1 ] || { echo "vector-files.sh: no vector files in vectors/" >&2; exit 1; }
