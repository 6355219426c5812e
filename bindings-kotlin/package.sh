#!/usr/bin/env bash
# Packages the Kotlin/JVM bindings without Gradle or Maven, as a Maven
# artifact dev.streamrelay:streamrelay:<version> in a file repository:
#
#   build/maven/dev/streamrelay/streamrelay/<v>/streamrelay-<v>.jar
#       the compiled bindings (generated UniFFI Kotlin, FastPath, the thin
#       layer; no tests), the licences in META-INF/, and libstreamrelay,
#       stripped, under JNA's resource
#       path (linux-x86-64/libstreamrelay.so on this machine): JNA extracts
#       it from the JAR, so an app needs no library path
#   build/maven/dev/streamrelay/streamrelay/<v>/streamrelay-<v>-sources.jar
#   build/maven/dev/streamrelay/streamrelay/<v>/streamrelay-<v>.pom
#       dependencies: JNA and the Kotlin standard library
#
# then compiles consumer/*.kt against the JAR alone (plus its POM's two
# dependencies) and runs consumer/GettingStarted.kt (the README's example)
# and consumer/JarCheck.kt (UniFFI and the JNI fast path from the JAR, one
# loaded library), with no library path set.
#
#   STREAMRELAY_LIB=path/libstreamrelay.so   use this build (default: cargo
#                                            build --release -p streamrelay-ffi)
#   STREAMRELAY_NATIVES="darwin-aarch64=/path/libstreamrelay.dylib ..."
#       more platforms in the same JAR (JNA resource prefix=file)
#
# Android takes an AAR instead (native libraries under jni/<abi>/): see
# README.md, "Android".
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
# shellcheck source=env.sh
. ./env.sh

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/ffi/Cargo.toml" | head -n 1)
jna_version=5.13.0 # what the tests use (Debian's libjna-java)
group_path=dev/streamrelay/streamrelay
out=build/maven/$group_path/$version
work=build/pkg
rm -rf "$work" "$out" build/consumer
mkdir -p "$work/classes" "$work/native" "$out" build/consumer

lib=${STREAMRELAY_LIB:-}
if [ -z "$lib" ]; then
  echo "==> cargo build --release -p streamrelay-ffi"
  (cd "$root" && cargo build -q --release -p streamrelay-ffi)
  lib="$target/release/libstreamrelay.so"
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) prefix=linux-x86-64 ;;
  Linux-aarch64) prefix=linux-aarch64 ;;
  *) echo "package.sh: name the JNA resource prefix for $(uname -s)-$(uname -m) here" >&2; exit 1 ;;
esac
natives=("$prefix=$lib")
read -r -a extra <<<"${STREAMRELAY_NATIVES:-}"
natives+=("${extra[@]}")
for n in "${natives[@]}"; do
  dir=${n%%=*}
  file=${n#*=}
  mkdir -p "$work/native/$dir"
  cp "$file" "$work/native/$dir/"
  case "$dir" in linux-*) strip "$work/native/$dir/$(basename "$file")" ;; esac
done

echo "==> kotlinc (Kotlin $KOTLIN_VERSION): the bindings, no tests"
"$KOTLIN_HOME/bin/kotlinc" -Werror -jvm-target 17 -cp "$CP_COMPILE" \
  $(find src/main/kotlin -name '*.kt' | sort) -d "$work/classes" 2>&1 |
  grep -v '^warning: .*unable to find kotlin-stdlib' || true
[ -f "$work/classes/dev/streamrelay/FastPath.class" ] || { echo "kotlinc failed" >&2; exit 1; }

mkdir -p "$work/classes/META-INF"
cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$work/classes/META-INF/"
jar_file="$out/streamrelay-$version.jar"
jar --create --file "$jar_file" -C "$work/classes" . -C "$work/native" .
jar --create --file "$out/streamrelay-$version-sources.jar" -C src/main/kotlin .

cat >"$out/streamrelay-$version.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.streamrelay</groupId>
  <artifactId>streamrelay</artifactId>
  <version>$version</version>
  <packaging>jar</packaging>
  <name>streamrelay</name>
  <description>Kotlin bindings of libstreamrelay, the Stream Relay v6 (Latica) peer-to-peer protocol as a sans-IO state machine: UniFFI over JNA, and a JNI fast path for datagrams</description>
  <licenses>
    <license>
      <name>MIT</name>
      <url>https://opensource.org/licenses/MIT</url>
    </license>
    <license>
      <name>Apache-2.0</name>
      <url>https://www.apache.org/licenses/LICENSE-2.0.txt</url>
    </license>
  </licenses>
  <dependencies>
    <dependency>
      <groupId>net.java.dev.jna</groupId>
      <artifactId>jna</artifactId>
      <version>$jna_version</version>
    </dependency>
    <dependency>
      <groupId>org.jetbrains.kotlin</groupId>
      <artifactId>kotlin-stdlib</artifactId>
      <version>$KOTLIN_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.jetbrains.kotlinx</groupId>
      <artifactId>kotlinx-coroutines-core-jvm</artifactId>
      <version>$COROUTINES_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
(cd "$out" && for f in *.jar *.pom; do sha1sum "$f" | cut -d' ' -f1 >"$f.sha1"; done)

echo "==> $out"
for f in "$out"/*.jar "$out"/*.pom; do printf '  %-40s %9d bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"; done
if jar tf "$jar_file" | grep -q 'Test\|test/'; then
  echo "the JAR holds test classes" >&2
  exit 1
fi
jar tf "$jar_file" | grep -E 'libstreamrelay' | sed 's/^/  /'

echo "==> the consumer: compiled against the JAR alone, run without a library path"
"$KOTLIN_HOME/bin/kotlinc" -Werror -jvm-target 17 -cp "$jar_file:$CP_COMPILE" \
  consumer/*.kt -d build/consumer/consumer.jar 2>&1 | grep -v '^warning: .*unable to find kotlin-stdlib' || true
[ -f build/consumer/consumer.jar ] || { echo "kotlinc failed on the consumer" >&2; exit 1; }
cp=(-cp "build/consumer/consumer.jar:$jar_file:$CP_RUNTIME")
# No jna.library.path, no java.library.path, no LD_LIBRARY_PATH.
env -u LD_LIBRARY_PATH java -Djna.tmpdir="$PWD/build/consumer" "${cp[@]}" GettingStartedKt | tee build/consumer/out.txt
grep -q '^libstreamrelay .*: send type 1 ' build/consumer/out.txt || { echo "GettingStarted did not run" >&2; exit 1; }
env -u LD_LIBRARY_PATH java -Djna.tmpdir="$PWD/build/consumer" "${cp[@]}" JarCheck
echo "kotlin package: ok"
