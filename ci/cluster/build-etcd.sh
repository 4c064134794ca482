#!/usr/bin/env bash
# Builds etcd from the Go module proxy: a main of our own that hands over to etcdmain.Main.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

out=$CLUSTER_CACHE/etcd-$ETCD_VERSION
if [[ -x $out/bin/etcd ]]; then exit 0; fi
mkdir -p "$out/src" "$out/bin"
cd "$out/src"
cat > go.mod <<MOD
module lakehouse.local/cluster-etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
go mod tidy
nice -n 19 go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd.tmp" .
mv "$out/bin/etcd.tmp" "$out/bin/etcd"
