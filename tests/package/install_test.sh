#!/usr/bin/env bash
# The Debian package as a user gets it: made by scripts/package, installed with apt-get into
# a fresh Debian 12 root (debootstrap minbase: none of clusterctl's libraries), then used
# there: clusterctl --version, man clusterctl, the completions, the JSON Schema, a command.
#   tests/package/install_test.sh SOURCE_DIR
# The fresh root is made once and kept in /var/cache/clusterctl-tests (each run installs
# into a copy of it). Needs root and Debian's mirror.
set -euo pipefail
src=$(cd "$1" && pwd)
fail() { echo "package test: FAILED: $*" >&2; exit 1; }

cache=/var/cache/clusterctl-tests/bookworm-minbase
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
         true)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -e "$cache/.complete" ]; then
  echo "package test: making a fresh Debian 12 root in $cache (once)" >&2
  rm -rf --one-file-system "$cache"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=man-db bookworm "$cache" "$mirror" >/dev/null
  cp /etc/resolv.conf "$cache/etc/resolv.conf"
  chroot "$cache" apt-get update -qq
  touch "$cache/.complete"
fi

root=$(mktemp -d /var/tmp/clusterctl-package.XXXXXX)
cleanup() {
  if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
  if ! mountpoint -q "$root/proc"; then rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
cp -a "$cache/." "$root/"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

deb=$("$src/scripts/package" 2>/dev/null | tail -n 1)
[ -f "$deb" ] || fail "scripts/package made no .deb"
cp "$deb" "$root/tmp/"
name=$(basename "$deb")

in_root sh -c '! command -v clusterctl >/dev/null' || fail "the fresh root has clusterctl already"
in_root sh -c '! dpkg -s libssh2-1 >/dev/null 2>&1' || fail "the fresh root has libssh2 already"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/tmp/$name" >"$root/tmp/apt.log" 2>&1 || fail "apt-get install ./$name: $(tail -n 5 "$root/tmp/apt.log")"

depends=$(in_root dpkg-query -W -f='${Depends}' clusterctl)
for lib in libssh2-1 libyaml-cpp0.7 libfmt9 libspdlog1.10; do
  case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib: $depends" ;; esac
done
version=$(in_root clusterctl --version)
[ "$version" = "clusterctl $(sed -n 's/^project(clusterctl VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] ||
  fail "clusterctl --version said '$version'"
in_root sh -c 'MANPAGER=cat MANWIDTH=80 man clusterctl' >"$root/tmp/man.txt" 2>&1 ||
  fail "man clusterctl: $(cat "$root/tmp/man.txt")"
grep -q "launch distributed training on GPU clusters over SSH" "$root/tmp/man.txt" ||
  fail "man clusterctl lacks its NAME line"
grep -q -- "--hostfile" "$root/tmp/man.txt" || fail "man clusterctl lacks --hostfile"
for f in /usr/share/bash-completion/completions/clusterctl /usr/share/zsh/vendor-completions/_clusterctl \
         /usr/share/clusterctl/clusterctl.schema.json /usr/share/doc/clusterctl/CONFIG.md \
         /usr/share/doc/clusterctl/copyright \
         /usr/share/doc/clusterctl/examples/llama-3.1-405b/clusterctl.yaml; do
  in_root test -s "$f" || fail "$f is not installed"
done
hosts=$(in_root clusterctl -w 'node-[1-2]' hosts) || fail "clusterctl hosts: $hosts"
case "$hosts" in *node-2*) ;; *) fail "clusterctl hosts said: $hosts" ;; esac
echo "package test: $name installed with apt-get into a fresh Debian 12 root; Depends: $depends"
