#!/usr/bin/env bash
# The JVM microbenchmark: datagrams per second through the UniFFI object
# (JNA) and through the JNI fast path (direct ByteBuffers), release build.
#
#   bash bindings-kotlin/bench.sh [seconds per run] [datagram size]
#
# and, with `node`, messages per second through three Nodes on 127.0.0.1
# (publisher, introducer, subscriber reading a Flow; only events cross JNA):
#
#   bash bindings-kotlin/bench.sh node [messages]
#
# Installs what is missing (env.sh), builds libstreamrelay in release
# (-p streamrelay-ffi) and regenerates the bindings first.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
# shellcheck source=env.sh
. ./env.sh

bash "$root/scripts/gen-bindings.sh"
(cd "$root" && cargo build -q --release -p streamrelay-ffi)
rm -rf build/bench-lib && mkdir -p build/bench-lib
cp "$target/release/libstreamrelay.so" build/bench-lib/

"$KOTLIN_HOME/bin/kotlinc" -Werror -jvm-target 17 -cp "$CP_COMPILE" \
  $(find src/main/kotlin src/bench/kotlin -name '*.kt' | sort) -d build/bench.jar
main=dev.streamrelay.BenchKt
if [ "${1:-}" = node ]; then
  main=dev.streamrelay.NodeBenchKt
  shift
fi
java -Djna.library.path=build/bench-lib -Djava.library.path=build/bench-lib \
  -cp "build/bench.jar:$CP_RUNTIME" "$main" "$@"
