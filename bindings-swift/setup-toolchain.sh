#!/usr/bin/env bash
# Makes sure Swift 6 is usable: a Debian trixie chroot (debootstrap, from the
# Debian mirror) with the `swiftlang` package, at $STREAMRELAY_SWIFT_CHROOT
# (default /var/tmp/streamrelay-swift-trixie; about 3 GB, outside the
# repository). Idempotent: a finished chroot (marker file) is reused; its
# /proc and /dev mounts are (re)made every run because they do not survive a
# reboot. Needs root (sudo is used when not root).
#
# Prints the chroot's path on its last line.
set -euo pipefail

chroot_dir=${STREAMRELAY_SWIFT_CHROOT:-/var/tmp/streamrelay-swift-trixie}
mirror=${STREAMRELAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
marker="$chroot_dir/.streamrelay-swift-ready"

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)

host_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing host packages: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -q >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

unmount_all() {
  for m in "$chroot_dir/dev" "$chroot_dir/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then "${sudo[@]}" umount -l "$m"; fi
  done
}

mount_all() {
  mountpoint -q "$chroot_dir/proc" || "${sudo[@]}" mount -t proc proc "$chroot_dir/proc"
  mountpoint -q "$chroot_dir/dev" || "${sudo[@]}" mount --bind /dev "$chroot_dir/dev"
}

# What the chroot must hold; a chroot made by an older recipe is completed.
recipe="swiftlang libc6-dev (with recommends) v3"
based="$chroot_dir/.streamrelay-debootstrap-done"

if [ ! -f "$based" ]; then
  host_install debootstrap
  if [ -e "$chroot_dir" ]; then
    # A half-made chroot from an interrupted run: unmount first, so that
    # rm never walks into the host's /dev through the bind mount.
    echo "removing the unfinished chroot $chroot_dir" >&2
    unmount_all
    if mountpoint -q "$chroot_dir/dev" || mountpoint -q "$chroot_dir/proc"; then
      echo "cannot unmount $chroot_dir/{dev,proc}; refusing to delete it" >&2
      exit 1
    fi
    "${sudo[@]}" rm -rf --one-file-system "$chroot_dir"
  fi
  echo "debootstrap trixie into $chroot_dir (from $mirror)" >&2
  t0=$SECONDS
  "${sudo[@]}" mkdir -p "$chroot_dir"
  "${sudo[@]}" debootstrap --variant=minbase trixie "$chroot_dir" "$mirror" >&2
  "${sudo[@]}" touch "$based"
  echo "debootstrap done in $((SECONDS - t0)) s" >&2
fi

if [ "$(cat "$marker" 2>/dev/null)" != "$recipe" ]; then
  t0=$SECONDS
  mount_all
  "${sudo[@]}" cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || true
  "${sudo[@]}" chroot "$chroot_dir" apt-get update -q >&2
  # With recommends, and libc6-dev named: linking needs its CRT files
  # (Scrt1.o, crti.o), which only gcc's recommends would bring.
  "${sudo[@]}" chroot "$chroot_dir" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q swiftlang libc6-dev >&2
  "${sudo[@]}" chroot "$chroot_dir" apt-get clean
  echo "$recipe" | "${sudo[@]}" tee "$marker" >/dev/null
  echo "swiftlang installed in $((SECONDS - t0)) s" >&2
fi

mount_all
"${sudo[@]}" chroot "$chroot_dir" swift --version >&2
echo "$chroot_dir"
