#!/usr/bin/env bash
# npm run chart:publish -- [--out DIR] [--key NAME --keyring SECRING] [--push oci://HOST/PATH [--plain-http]]
# Packages chart/ as lakehouse-<version>.tgz into DIR (default dist/), with --key its provenance
# file beside it (helm package --sign: the key NAME in the OpenPGP keyring file SECRING, as
# `gpg --export-secret-keys` writes it; HELM_KEY_PASSPHRASE when the key has one), which it then
# verifies with helm verify; with --push it pushes the package (and its provenance) to the OCI
# registry path, where `helm install NAME oci://HOST/PATH/lakehouse --version <version>` finds it.
# HELM names the helm binary (default: helm on PATH, e.g. the tool cache's from `npm run tools`).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
helm=${HELM:-helm}
out=$repo/dist key='' keyring='' push='' plain_http=()
usage() { sed -n 2p "$0" | sed 's/^# //' >&2; exit 2; }
while (($# > 0)); do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --key) key=${2:?--key needs a key name}; shift 2 ;;
    --keyring) keyring=${2:?--keyring needs a file}; shift 2 ;;
    --push) push=${2:?--push needs oci://HOST/PATH}; shift 2 ;;
    --plain-http) plain_http=(--plain-http); shift ;;
    *) echo "chart:publish: unknown argument \"$1\"" >&2; usage ;;
  esac
done
if [[ -n $key && -z $keyring ]] || [[ -z $key && -n $keyring ]]; then
  echo "chart:publish: --key and --keyring go together (the key's name and the keyring file holding it)" >&2; exit 2
fi
if [[ -n $keyring && ! -r $keyring ]]; then echo "chart:publish: --keyring $keyring: no such readable file" >&2; exit 2; fi
if [[ -n $push && $push != oci://* ]]; then echo "chart:publish: --push $push: not an oci:// reference" >&2; exit 2; fi
command -v "$helm" >/dev/null || { echo "chart:publish: $helm not found (npm run tools installs it into the tool cache)" >&2; exit 2; }

version=$(sed -n 's/^version: //p' "$repo/chart/Chart.yaml")
package=$out/lakehouse-$version.tgz
mkdir -p "$out"
rm -f "$package" "$package.prov"
if [[ -n $key ]]; then
  "$helm" package "$repo/chart" -d "$out" --sign --key "$key" --keyring "$keyring" >&2
  "$helm" verify "$package" --keyring "$keyring" >&2
else
  "$helm" package "$repo/chart" -d "$out" >&2
fi
if [[ -n $push ]]; then "$helm" push "$package" "$push" "${plain_http[@]}" >&2; fi
echo "$package"
