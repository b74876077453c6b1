#!/bin/sh
# mmdebstrap --extract-hook of scripts/build-image: ROOT STAGE PACKAGES_OUT.
# Runs after the locked Debian packages are unpacked into ROOT (the extract variant runs no
# maintainer scripts: nothing here needs them, and none can leave state that differs per run).
set -eu
root=$1 stage=$2 packages_out=$3

# What was unpacked, as name=version (the lock format; "%3a" is the epoch's colon).
ls "$root"/var/cache/apt/archives/ | sed -n 's/%3a/:/; s/^\([^_]*\)_\([^_]*\)_.*\.deb$/\1=\2/p' \
  | LC_ALL=C sort > "$packages_out"
mkdir -p "$root/usr/share/nfd-client"
cp "$packages_out" "$root/usr/share/nfd-client/debian-packages.lock"
# dpkg's status database, which the extract variant leaves empty: image scanners read it to
# know which packages (and so which security fixes) the image holds.
for deb in $(ls "$root"/var/cache/apt/archives/*.deb | LC_ALL=C sort); do
  dpkg-deb -f "$deb" | awk 'NR == 1 { print; print "Status: install ok installed"; next } 1'
  echo
done > "$root/var/lib/dpkg/status"

# The project, its PyPI dependencies, the `nfd` launcher, /etc/passwd with nobody.
cp -R "$stage"/. "$root"/

# Not needed to run the client, and a large part of the size: documentation, man pages,
# translations, glibc's iconv modules (Python's codecs are its own), Python's own test
# suite and its development tools.
rm -rf "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info \
  "$root"/usr/share/locale "$root"/usr/share/lintian "$root"/usr/lib/x86_64-linux-gnu/gconv
for dir in test idlelib tkinter turtledemo ensurepip lib2to3 pydoc_data distutils/tests \
    unittest/test ctypes/test sqlite3/test; do
  rm -rf "$root/usr/lib/python3.11/$dir"
done

# Of the dependencies: their own test suites, and the kubernetes client's asyncio copy of
# itself (kubernetes/aio, half of its size; the cluster code uses the synchronous client).
site="$root/usr/lib/python3/dist-packages"
rm -rf "$site/kubernetes/aio" "$site/websocket/tests" "$site/certifi/tests"

# Byte-code compiled ahead, by the image's own interpreter: the root file system is read-only
# at run time. Hash-based .pyc files hold the source's hash, not its mtime: reproducible.
chroot "$root" /usr/bin/python3.11 -I -m compileall -q --invalidation-mode unchecked-hash \
  /usr/lib/python3.11 /usr/lib/python3/dist-packages >/dev/null
