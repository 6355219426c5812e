#!/usr/bin/env bash
# Idempotent setup for the vector generator.
#  1. install the pinned reference (@socketsupply/socket@0.6.0-rc.8) from
#     package-lock.json into ./node_modules;
#  2. build ./.ref/, laid out like the package:
#       .ref/latica/*.js                 the reference's latica/ (copied)
#       .ref/crypto/sodium.js            the runtime's libsodium loader (copied)
#       .ref/external/libsodium/index.js the libsodium build the reference
#                                        bundles, 1.0.18 (copied, with LICENSE)
#       .ref/{util,buffer,crypto}.js     our shims (./shims/*.js), so that
#                                        latica's `../util.js`, `../buffer.js` and
#                                        `../crypto.js` imports resolve to them.
#     The crypto shim loads ./crypto/sodium.js the way the runtime does, so the
#     reference runs on its own libsodium. sodium.js imports only
#     ../external/libsodium/index.js, which imports only node builtins.
# Both node_modules and .ref are git-ignored. Nothing of the reference is committed.
set -euo pipefail
cd "$(dirname "$0")"

# Installed versions must be exactly the ones in package-lock.json.
installed_ok() {
  node -e '
    const lock = require("./package-lock.json").packages
    for (const name of ["@socketsupply/socket"]) {
      let v = null
      try { v = require("./node_modules/" + name + "/package.json").version } catch {}
      if (v !== lock["node_modules/" + name].version) process.exit(1)
    }' 2>/dev/null
}

if ! installed_ok; then
  # `npm ci` refuses this lock file: npm writes only the optional native
  # runtime package of the platform that made the lock (@socketsupply/socket
  # lists one per platform), and `npm ci` then reports the others missing.
  # `npm install` installs exactly what the lock says; the lock is restored
  # afterwards so that a run on another platform never rewrites it.
  # --omit=optional: the optional deps are the socket runtime's native
  # binaries; latica/ needs none of them. --ignore-scripts: nothing to build.
  cp package-lock.json .package-lock.json.bak
  npm install --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error || { mv .package-lock.json.bak package-lock.json; exit 1; }
  mv .package-lock.json.bak package-lock.json
  if ! installed_ok; then
    echo "setup.sh: installed versions do not match package-lock.json" >&2
    exit 1
  fi
fi

ver=$(node -p "require('./node_modules/@socketsupply/socket/package.json').version")
if [ "$ver" != "0.6.0-rc.8" ]; then
  echo "setup.sh: expected @socketsupply/socket 0.6.0-rc.8, found $ver" >&2
  exit 1
fi

pkg=node_modules/@socketsupply/socket
rm -rf .ref.tmp
mkdir -p .ref.tmp/latica .ref.tmp/crypto .ref.tmp/external/libsodium
cp "$pkg"/latica/*.js .ref.tmp/latica/
cp "$pkg"/crypto/sodium.js .ref.tmp/crypto/
cp "$pkg"/external/libsodium/index.js "$pkg"/external/libsodium/LICENSE .ref.tmp/external/libsodium/
cp shims/util.js shims/buffer.js shims/crypto.js .ref.tmp/
rm -rf .ref
mv .ref.tmp .ref
echo "setup.sh: reference ready in $(pwd)/.ref (socket $ver, its bundled libsodium in .ref/external/libsodium)"
