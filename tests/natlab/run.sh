#!/usr/bin/env bash
# The kernel NAT lab (tests/natlab/README.md): network namespaces, real
# kernel NATs (conntrack + nftables), `streamrelay peer` and reference peers.
#   bash tests/natlab/run.sh [--full] [run.mjs options...]
# Short form by default (CI: a few minutes); --full for the whole lab.
# Skips, saying why on one line, only where namespaces cannot be made (not
# root, no `ip`/`nft`, or the kernel refuses a namespace) or node is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "natlab: SKIPPED: $*"; exit 0; }
command -v node >/dev/null 2>&1 || skip "node not found (the driver and the reference peers need it)"
[ "$(id -u)" = 0 ] || skip "not root: network namespaces and nftables need root"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) not found"
command -v nft >/dev/null 2>&1 || skip "nftables (nft) not found (.ci/run installs it)"
probe="srnl$$-probe"
if ! ip netns add "$probe" 2>/dev/null; then skip "cannot create a network namespace here"; fi
ok=1
ip netns exec "$probe" nft add table ip natlab_probe 2>/dev/null || ok=0
ip netns del "$probe" 2>/dev/null || true
[ "$ok" = 1 ] || skip "nftables does not work inside a network namespace here"

# Namespaces left by an earlier run of this lab that was killed outright
# (SIGKILL gives it no chance to clean up): srnl<pid>-* whose pid is gone.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^srnl[0-9]+-' || true); do
  pid="${ns#srnl}"; pid="${pid%%-*}"
  kill -0 "$pid" 2>/dev/null || ip netns del "$ns" 2>/dev/null || true
done

cargo build -q --release -p streamrelay-cli
[ -f vectors/generator/.ref/latica/index.js ] || bash vectors/generator/setup.sh

limit=420
case " $* " in *" --full "*) limit=3600 ;; esac
# The driver removes its namespaces itself (exit, SIGINT, SIGTERM); if it is
# killed outright, they are removed here (their names carry this shell's pid).
export NATLAB_PREFIX="srnl$$"
driver=""
cleanup() {
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$driver" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$driver" 2>/dev/null || true
  fi
  # the lab's own processes still inside its namespaces (if the driver was
  # killed outright), by pid, then the namespaces
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NATLAB_PREFIX}-" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Hard bound for the whole run.
timeout --signal=TERM --kill-after=20 "$limit" node tests/natlab/run.mjs "$@" &
driver=$!
wait "$driver"
