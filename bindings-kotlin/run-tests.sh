#!/usr/bin/env bash
# The Kotlin bindings' tests, without Gradle (CI runs this script):
# installs what is missing (env.sh), builds libstreamrelay and regenerates
# the bindings (scripts/gen-bindings.sh), compiles the generated Kotlin,
# the thin layer, the JNI fast path and the JUnit 4 tests with kotlinc, and
# runs them with JNA's and the JVM's library paths set. Ends with
# "N passed, N failed" (one count per JUnit test).
#
# Tests: the golden vectors (all cases through the runner behind the
# bindings, the key/id/NAT/decode kinds through the Kotlin API), the JNI
# fast path (shared handle, in-place buffers, no per-datagram allocation,
# panics and typed exceptions) and the loopback exchange (introducer +
# two peers on 127.0.0.1, one Selector loop, over JNA and over JNI), each
# bounded by a deadline (STREAMRELAY_TEST_DEADLINE_MS, default 30000).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
export RUST_BACKTRACE=0

# shellcheck source=env.sh
. ./env.sh

echo "==> build libstreamrelay (debug, feature vectors) and regenerate the bindings"
bash "$root/scripts/gen-bindings.sh"
rm -rf build/lib && mkdir -p build/lib
# A copy: another build of the workspace may rewrite target/debug meanwhile.
cp "$target/debug/libstreamrelay.so" build/lib/

echo "==> kotlinc (Kotlin $KOTLIN_VERSION)"
t0=$SECONDS
"$KOTLIN_HOME/bin/kotlinc" -Werror -jvm-target 17 \
  -cp "$CP_COMPILE:/usr/share/java/junit4.jar" \
  $(find src/main/kotlin src/test/kotlin -name '*.kt' | sort) \
  -d build/test.jar 2>&1 | grep -v '^warning: .*unable to find kotlin-stdlib' || true
[ -f build/test.jar ] || { echo "kotlinc failed"; echo "0 passed, 1 failed"; exit 1; }
echo "compiled in $((SECONDS - t0)) s"

cp=(-cp "build/test.jar:$CP_RUNTIME:/usr/share/java/junit4.jar:/usr/share/java/hamcrest.jar")
props=(-Djna.library.path=build/lib -Djava.library.path=build/lib -Dstreamrelay.vectors.dir="$root/vectors")

# -Xcheck:jni over the fast-path tests. JNA's own native dispatch trips
# -Xcheck:jni on every call (it checks for exceptions its own way), so only
# warnings raised inside dev.streamrelay.FastPathNative count.
echo "==> JNI fast path under -Xcheck:jni"
jni_ok=1
if ! java -Xcheck:jni "${props[@]}" "${cp[@]}" dev.streamrelay.TestMainKt dev.streamrelay.FastPathTest \
  >build/xcheck-jni.log 2>&1; then
  jni_ok=0
  grep -v '^\s*at \|WARNING in native\|^\s*- locked' build/xcheck-jni.log | tail -n 20
fi
ours=$(grep -A1 '^WARNING in native method' build/xcheck-jni.log | grep -c 'dev.streamrelay.FastPathNative' || true)
echo "-Xcheck:jni warnings raised in FastPathNative: $ours ($(tail -n 1 build/xcheck-jni.log))"
[ "$ours" = 0 ] || jni_ok=0

echo "==> JUnit"
set +e
java "${props[@]}" "${cp[@]}" dev.streamrelay.TestMainKt | tee build/junit.log
set -e
last=$(tail -n 1 build/junit.log)
passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' <<<"$last")
failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' <<<"$last")
[ -n "$passed" ] || { passed=0; failed=1; }
# The -Xcheck:jni run counts as one more test.
if [ "$jni_ok" = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "kotlin: $passed passed, $failed failed"
[ "$failed" = 0 ]
