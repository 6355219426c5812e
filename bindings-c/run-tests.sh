#!/usr/bin/env bash
# Builds libstreamrelay (cargo build --release -p streamrelay-ffi, plus the
# `vectors` feature build) and runs every C/C++ program of bindings-c/ under
# AddressSanitizer + UndefinedBehaviorSanitizer and under valgrind:
#
#   - the C11 test suite (every function, NULL / garbage / freed handles,
#     small buffers, malformed datagrams, re-entry, panics, threads, signals),
#     also linked statically, and again with the vector entry point;
#   - the Node tests (sr_node_*: hostile arguments, two nodes and an
#     introducer exchanging subcluster messages over real UDP on 127.0.0.1
#     read from one poll loop over their event fds, restart from the state
#     file keeps the identity, commands from four threads at once, one
#     event reader at a time, a node freed while another thread waits);
#   - the C++17 loopback example (three peers on real UDP sockets, one poll
#     loop, a subcluster message each way);
#   - the C vector runner over the golden vectors and vectors/flows.json, whose summary must equal
#     `streamrelay vectors check`'s;
#   - every flow vector (both profiles) replayed through the C ABI itself
#     (vectors/replay_flows.c: every transmit, event and deadline, byte for byte);
#   - `make install` into a temporary prefix, and the getting-started
#     examples built against it through pkg-config (C) and CMake (C++),
#     shared and static (test-install.sh).
#
# Prints the stripped size of the release libstreamrelay.so and ends with
# "N passed, N failed" (one count per program run). Exit status 1 on any
# failure.
set -uo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}

export RUST_BACKTRACE=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
valgrind=(valgrind -q --error-exitcode=1 --leak-check=full --track-origins=yes --suppressions=valgrind.supp)

step() { printf '\n==> %s\n' "$*"; }

step "build: libstreamrelay (release, default and 'vectors' features) and the programs"
make -j2 all || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p build/logs
passed=0
failed=0
failures=()

# run NAME CMD...: runs a program, keeps its output in build/logs/NAME.log,
# shows its last line (its own "N passed, N failed" where it has one).
run() {
  local name=$1
  shift
  local log="build/logs/${name//\//_}.log"
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf 'ok   %-34s %4ss  %s\n' "$name" $((SECONDS - t0)) "$(tail -n 1 "$log")"
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL %-34s %4ss  (log: bindings-c/%s)\n' "$name" $((SECONDS - t0)) "$log"
    tail -n 40 "$log" | sed 's/^/     | /'
  fi
}

step "C test suite"
run "c-tests/asan+ubsan" build/test_c_asan
run "c-tests/valgrind" "${valgrind[@]}" build/test_c
run "c-tests/static" build/test_c_static
run "c-tests+vectors-api/asan+ubsan" build/test_c_vectors_asan
run "c-tests+vectors-api/valgrind" "${valgrind[@]}" build/test_c_vectors

step "Node tests (sr_node_*: two nodes and an introducer on 127.0.0.1, one poll loop over their event fds; restart from the state file)"
run "node-tests/asan+ubsan" build/test_node_asan
run "node-tests/valgrind" "${valgrind[@]}" build/test_node

step "C++ loopback example (two peers + an introducer on 127.0.0.1, one poll loop)"
run "loopback/asan+ubsan" build/loopback_asan
run "loopback/valgrind" "${valgrind[@]}" build/loopback

step "C vector runner over the golden vectors and vectors/flows.json"
mapfile -t vector_files < <(bash "$root/scripts/vector-files.sh")
# and the flow vectors: the runner replays them too
vector_files+=("$root/vectors/flows.json")
run "vectors/asan+ubsan" build/run_vectors_asan "${vector_files[@]}"
run "vectors/valgrind" "${valgrind[@]}" build/run_vectors "${vector_files[@]}"
# The same cases as the Rust CLI: compare the summary lines.
same_as_cli() {
  (cd "$root" && cargo build -q --release -p streamrelay-cli) || return 1
  local cli c
  cli=$("$target/release/streamrelay" vectors check "${vector_files[@]}" | tail -n 1)
  c=$(tail -n 1 build/logs/vectors_asan+ubsan.log 2>/dev/null || true)
  [ -n "$c" ] || c=$(build/run_vectors "${vector_files[@]}" | tail -n 1)
  echo "streamrelay vectors check: $cli"
  echo "C vector runner:           $c"
  [ "$cli" = "$c" ]
}
run "vectors/same-as-cli" same_as_cli

step "C flow replay: every flow vector (both profiles) through the C ABI itself"
run "flows/asan+ubsan" build/replay_flows_asan "$root/vectors/flows.json"
run "flows/valgrind" "${valgrind[@]}" build/replay_flows "$root/vectors/flows.json"

step "install: make install, then the getting-started examples through pkg-config (C) and CMake (C++), shared and static"
run "install/pkg-config+cmake" bash test-install.sh build/lib

step "size of the stripped release libstreamrelay.so"
for variant in lib lib-vectors; do
  cp build/$variant/libstreamrelay.so build/libstreamrelay.stripped.so
  strip build/libstreamrelay.stripped.so
  printf '%-12s %9d bytes stripped (%d unstripped)\n' "$variant" \
    "$(stat -c %s build/libstreamrelay.stripped.so)" "$(stat -c %s build/$variant/libstreamrelay.so)"
  rm -f build/libstreamrelay.stripped.so
done

if [ ${#failures[@]} -gt 0 ]; then
  printf '\nfailed: %s\n' "${failures[*]}"
fi
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
