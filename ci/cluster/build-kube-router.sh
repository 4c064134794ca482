#!/usr/bin/env bash
# Builds kube-router from the Go module proxy, for its NetworkPolicy controller only: a main of our
# own with kube-router's flags (its own main also serves pprof on 0.0.0.0:6060).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

out=$CLUSTER_CACHE/kube-router-$KUBE_ROUTER_VERSION
if [[ -x $out/bin/kube-router ]]; then exit 0; fi
mkdir -p "$out/src" "$out/bin"
cd "$out/src"
cat > go.mod <<MOD
module lakehouse.local/cluster-kube-router

go 1.24

require github.com/cloudnativelabs/kube-router/v2 $KUBE_ROUTER_VERSION
MOD
cat > main.go <<'GO'
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cloudnativelabs/kube-router/v2/pkg/cmd"
	"github.com/cloudnativelabs/kube-router/v2/pkg/options"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

func main() {
	klog.InitFlags(nil)
	config := options.NewKubeRouterConfig()
	config.AddFlags(pflag.CommandLine)
	pflag.Parse()
	_ = flag.CommandLine.Parse([]string{})
	_ = flag.Set("logtostderr", "true")
	_ = flag.Set("v", config.VLevel)
	router, err := cmd.NewKubeRouterDefault(config)
	if err == nil {
		err = router.Run()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube-router: %v\n", err)
		os.Exit(1)
	}
}
GO
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
go mod tidy
nice -n 19 go build -trimpath -ldflags "-s -w" -o "$out/bin/kube-router.tmp" .
mv "$out/bin/kube-router.tmp" "$out/bin/kube-router"
