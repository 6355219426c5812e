# Sourced by run-tests.sh and bench.sh: installs what the Kotlin bindings
# need when it is missing, and sets KOTLIN_HOME, CP_RUNTIME.
#
# - Debian packages: a JDK (17), JNA (libjna-java, with its native stub
#   libjna-jni) and JUnit 4 (junit4, with hamcrest); apt-get, through sudo
#   when not root.
# - The Kotlin compiler from npm (kotlin-compiler@2.4.20) into
#   bindings-kotlin/.tools (not committed).
kotlin_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KOTLIN_VERSION=2.4.20

sudo_=()
[ "$(id -u)" = 0 ] || sudo_=(sudo)
missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
[ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
[ -f /usr/share/java/junit4.jar ] || missing+=(junit4)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  "${sudo_[@]}" apt-get update -q
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

KOTLIN_HOME="$kotlin_dir/.tools/node_modules/kotlin-compiler"
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ] || ! grep -q "\"version\": \"$KOTLIN_VERSION\"" "$KOTLIN_HOME/package.json" 2>/dev/null; then
  command -v npm >/dev/null || { echo "npm is needed to install the Kotlin compiler" >&2; exit 1; }
  echo "installing kotlin-compiler@$KOTLIN_VERSION from npm into bindings-kotlin/.tools"
  mkdir -p "$kotlin_dir/.tools"
  (cd "$kotlin_dir/.tools" && npm install --no-audit --no-fund --no-save --loglevel=error "kotlin-compiler@$KOTLIN_VERSION")
fi
export KOTLIN_HOME
# kotlinx-coroutines (suspend methods, the Node's event Flow): the copy the
# Kotlin compiler ships in its lib/ (1.8.0 with kotlin-compiler 2.4.20).
COROUTINES_JAR="$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar"
COROUTINES_VERSION=$(unzip -p "$COROUTINES_JAR" META-INF/kotlinx_coroutines_core.version 2>/dev/null || echo 1.8.0)
export COROUTINES_JAR COROUTINES_VERSION
# What compiling against the bindings needs besides the Kotlin stdlib.
CP_COMPILE="/usr/share/java/jna.jar:$COROUTINES_JAR"
export CP_COMPILE
CP_RUNTIME="$KOTLIN_HOME/lib/kotlin-stdlib.jar:/usr/share/java/jna.jar:$COROUTINES_JAR"
export CP_RUNTIME
