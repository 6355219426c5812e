#!/usr/bin/env bash
# The C ABI may only change together with SR_ABI_VERSION (docs/versioning.md).
#
# include/streamrelay.abi records the ABI as last accepted: SR_ABI_VERSION and
# the header's declarations (include/streamrelay.h with comments, blank
# lines, indentation and the SR_VERSION_* / SR_ABI_VERSION defines taken out:
# functions, types, struct layouts, enum values, constants). The check fails
#
#   - when the declarations differ from the record but SR_ABI_VERSION does
#     not (an ABI change without a version bump: bump SR_ABI_VERSION in
#     ffi/src/lib.rs, rebuild, then --update);
#   - when SR_ABI_VERSION differs from the record (a bump that was not
#     recorded: --update).
#
#   bash scripts/check-abi.sh             check (CI)
#   bash scripts/check-abi.sh --update    re-record; refused unless
#                                         SR_ABI_VERSION went up, or the
#                                         declarations are unchanged
#   bash scripts/check-abi.sh --self-test the rules above on a scratch copy
#
# HEADER and RECORD (environment) override the two paths.
set -euo pipefail
cd "$(dirname "$0")/.."
header=${HEADER:-include/streamrelay.h}
record=${RECORD:-include/streamrelay.abi}

# The declarations: gcc -fpreprocessed strips comments without expanding
# anything (no system header is read, so the result is the same on every
# machine); -dD keeps the #defines.
surface() {
  gcc -fpreprocessed -dD -E -P -x c "$1" |
    sed -e 's/[[:space:]]\+/ /g' -e 's/^ //' -e 's/ $//' |
    grep -v -e '^$' -e '^#define SR_VERSION_\(MAJOR\|MINOR\|PATCH\) ' -e '^#define SR_ABI_VERSION '
}
abi_of_header() { sed -n 's/^#define SR_ABI_VERSION \([0-9][0-9]*\)$/\1/p' "$1"; }
abi_of_record() { sed -n 's/^abi_version \([0-9][0-9]*\)$/\1/p' "$1"; }
body_of_record() { sed '1,/^---$/d' "$1"; }

write_record() { # header record
  local abi
  abi=$(abi_of_header "$1")
  {
    echo "# The C ABI of include/streamrelay.h as last accepted, checked by"
    echo "# scripts/check-abi.sh: SR_ABI_VERSION, then the header's declarations"
    echo "# (no comments, no SR_VERSION_*). Do not edit; see docs/versioning.md."
    echo "abi_version $abi"
    echo "---"
    surface "$1"
  } >"$2"
}

check() { # header record
  local h=$1 r=$2 have want
  have=$(abi_of_header "$h")
  [ -n "$have" ] || { echo "no '#define SR_ABI_VERSION N' in $h" >&2; return 1; }
  [ -f "$r" ] || { echo "no ABI record $r: bash scripts/check-abi.sh --update" >&2; return 1; }
  want=$(abi_of_record "$r")
  if ! diff -u --label "$r (recorded, SR_ABI_VERSION $want)" --label "$h (SR_ABI_VERSION $have)" \
    <(body_of_record "$r") <(surface "$h") >"$tmp/abi.diff"; then
    if [ "$have" = "$want" ]; then
      echo "FAIL: the C ABI changed but SR_ABI_VERSION is still $have." >&2
      cat "$tmp/abi.diff" >&2
      echo "Bump SR_ABI_VERSION in ffi/src/lib.rs (docs/versioning.md), rebuild" \
        "(cargo build -p streamrelay-ffi), then run bash scripts/check-abi.sh --update." >&2
      return 1
    fi
    echo "FAIL: SR_ABI_VERSION is $have, the record says $want: record the new ABI" \
      "(bash scripts/check-abi.sh --update) and commit $r." >&2
    return 1
  fi
  if [ "$have" != "$want" ]; then
    echo "FAIL: SR_ABI_VERSION is $have, the record says $want (declarations unchanged):" \
      "bash scripts/check-abi.sh --update, and commit $r." >&2
    return 1
  fi
  echo "C ABI: $h matches $r (SR_ABI_VERSION $have, $(body_of_record "$r" | wc -l) declaration lines)"
}

update() { # header record
  local h=$1 r=$2 have want
  have=$(abi_of_header "$h")
  if [ -f "$r" ]; then
    want=$(abi_of_record "$r")
    if [ "$have" -lt "$want" ]; then
      echo "refused: SR_ABI_VERSION $have is lower than the recorded $want" >&2
      return 1
    fi
    if [ "$have" = "$want" ] && ! cmp -s <(body_of_record "$r") <(surface "$h"); then
      echo "refused: the declarations changed but SR_ABI_VERSION is still $have; bump it first" >&2
      return 1
    fi
  fi
  write_record "$h" "$r"
  echo "recorded the C ABI of $h (SR_ABI_VERSION $have) in $r"
}

self_test() {
  local h="$tmp/t.h" r="$tmp/t.abi" fails=0 runs=0
  expect() { # ok|fail description command...
    local want=$1 what=$2
    shift 2
    runs=$((runs + 1))
    if "$@" >"$tmp/out" 2>&1; then got=ok; else got=fail; fi
    if [ "$got" = "$want" ]; then
      echo "ok   $what"
    else
      echo "FAIL $what (expected $want, got $got):"
      sed 's/^/     | /' "$tmp/out"
      fails=$((fails + 1))
    fi
  }
  cp "$header" "$h"
  write_record "$h" "$r"
  expect ok "an unchanged header passes" check "$h" "$r"
  sed -i 's|^\(// \)|\1edited: |' "$h"
  expect ok "a comment-only change passes" check "$h" "$r"
  sed -i 's/^#define SR_VERSION_PATCH [0-9]*/#define SR_VERSION_PATCH 99/' "$h"
  expect ok "a library version change alone passes" check "$h" "$r"
  sed -i 's/^SrStatus sr_peer_handle_timeout(struct SrPeer \*peer, uint64_t now_ms);/SrStatus sr_peer_handle_timeout(struct SrPeer *peer, uint32_t now_ms);/' "$h"
  grep -q 'uint32_t now_ms);' "$h" || { echo "self-test: could not edit a declaration"; return 1; }
  expect fail "a changed function without a bump fails" check "$h" "$r"
  expect fail "--update refuses a changed function without a bump" update "$h" "$r"
  cp "$header" "$h"
  sed -i 's/^\( *SR_STATUS_BUSY = \)-3,/\1-33,/' "$h"
  expect fail "a changed enum value without a bump fails" check "$h" "$r"
  cp "$header" "$h"
  sed -i 's/^\(typedef struct SrSocketId {\)$/\1\n  uint32_t added;/' "$h"
  expect fail "a changed struct layout without a bump fails" check "$h" "$r"
  local v
  v=$(abi_of_header "$h")
  sed -i "s/^#define SR_ABI_VERSION $v\$/#define SR_ABI_VERSION $((v + 1))/" "$h"
  expect fail "a bump that is not recorded fails" check "$h" "$r"
  expect ok "--update records a bumped ABI" update "$h" "$r"
  expect ok "the bumped, recorded ABI passes" check "$h" "$r"
  cp "$header" "$h"
  expect fail "--update refuses a lower SR_ABI_VERSION" update "$h" "$r"
  echo "check-abi self-test: $((runs - fails)) passed, $fails failed"
  [ "$fails" = 0 ]
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "${1:-}" in
  "") check "$header" "$record" ;;
  --update) update "$header" "$record" ;;
  --self-test) self_test ;;
  *) echo "usage: $0 [--update | --self-test]" >&2; exit 2 ;;
esac
