#!/usr/bin/env bash
# `make install` into a temporary prefix, then builds and runs what a user
# would, against the installed files only:
#
#   - examples/getting_started.c through pkg-config, shared and static;
#   - examples/cmake/ (a C++17 program) through find_package(streamrelay),
#     shared and static (streamrelay_USE_STATIC_LIBS=ON), with cmake;
#   - find_package version and component checks (a wrong version and a
#     missing component must fail to configure).
#
# Needs a built library in LIBSRC (default build/lib: `make lib`). Installs
# cmake from Debian when it is missing (apt-get, sudo when not root).
set -euo pipefail
cd "$(dirname "$0")"
libsrc=${1:-build/lib}

if ! command -v cmake >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cmake
fi

prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
make -s install PREFIX="$prefix" LIBSRC="$libsrc"
echo "installed into $prefix:"
(cd "$prefix" && find . -type f | sort | sed 's/^\.\//  /')

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# The block in README.md is this file (scripts/check-examples.sh).
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -pedantic examples/getting_started.c -o "$work/c-shared" \
  $(pkg-config --cflags --libs streamrelay) -Wl,-rpath,"$prefix/lib"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -Werror -pedantic examples/getting_started.c -o "$work/c-static" \
  $(pkg-config --cflags streamrelay) "$(pkg-config --variable=libdir streamrelay)/libstreamrelay.a" \
  $(pkg-config --libs-only-l --static streamrelay | sed 's/-lstreamrelay//')

cmake_build() { # NAME [cmake args...]
  local name=$1
  shift
  cmake -S examples/cmake -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" "$@" >"$work/$name.log" 2>&1 &&
    cmake --build "$work/$name" >>"$work/$name.log" 2>&1 || { cat "$work/$name.log"; return 1; }
}
cmake_build cpp-shared -DCMAKE_BUILD_RPATH="$prefix/lib"
cmake_build cpp-static -Dstreamrelay_USE_STATIC_LIBS=ON

for prog in c-shared c-static; do
  echo "$prog: $("$work/$prog")"
done
for prog in cpp-shared cpp-static; do
  echo "$prog: $("$work/$prog/getting_started")"
done

# Linked as intended: the shared builds need libstreamrelay.so (by name, not
# by the install path), the static ones do not.
for prog in "$work/c-shared" "$work/cpp-shared/getting_started"; do
  readelf -d "$prog" | grep -q 'NEEDED.*\[libstreamrelay.so\]' ||
    { echo "$prog does not need libstreamrelay.so by name" >&2; exit 1; }
done
for prog in "$work/c-static" "$work/cpp-static/getting_started"; do
  if readelf -d "$prog" | grep -q 'NEEDED.*libstreamrelay'; then
    echo "$prog is not linked statically" >&2; exit 1
  fi
done

# find_package refuses what does not fit.
mkdir -p "$work/neg"
printf '%s\n' 'cmake_minimum_required(VERSION 3.16)' 'project(neg NONE)' \
  'find_package(streamrelay ${WANT} REQUIRED ${COMPONENTS})' >"$work/neg/CMakeLists.txt"
refuses() { # description, cmake args...
  local what=$1
  shift
  if cmake -S "$work/neg" -B "$work/neg/build-$RANDOM" -DCMAKE_PREFIX_PATH="$prefix" "$@" >/dev/null 2>&1; then
    echo "find_package accepted $what" >&2
    exit 1
  fi
  echo "find_package refuses $what: ok"
}
refuses "version 1.0 (have 0.x)" -DWANT=1.0
refuses "version 0.99" -DWANT=0.99
refuses "component 'swift'" -DWANT=0.1 "-DCOMPONENTS=COMPONENTS;swift"
cmake -S "$work/neg" -B "$work/neg/ok" -DCMAKE_PREFIX_PATH="$prefix" -DWANT=0.1 \
  "-DCOMPONENTS=COMPONENTS;shared;static" >/dev/null
echo "find_package(streamrelay 0.1 COMPONENTS shared static): ok"
echo "install, pkg-config and CMake consumers: ok"
