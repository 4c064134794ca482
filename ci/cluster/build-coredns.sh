#!/usr/bin/env bash
# Builds CoreDNS from the Go module proxy with only the plugins the cluster's Corefile uses
# (a main of our own: the full plugin set pulls in every cloud SDK and doubles the build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

out=$CLUSTER_CACHE/coredns-$COREDNS_VERSION
if [[ -x $out/bin/coredns ]]; then exit 0; fi
mkdir -p "$out/src" "$out/bin"
cd "$out/src"
cat > go.mod <<MOD
module lakehouse.local/cluster-coredns

go 1.24.0

require github.com/coredns/coredns $COREDNS_VERSION
MOD
cat > main.go <<'GO'
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The order is the order in which a query passes the plugins, as in CoreDNS' own plugin.cfg.
func init() {
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "log", "cache", "kubernetes"}
}

func main() { coremain.Run() }
GO
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
go mod tidy
nice -n 19 go build -trimpath -ldflags "-s -w" -o "$out/bin/coredns.tmp" .
mv "$out/bin/coredns.tmp" "$out/bin/coredns"
