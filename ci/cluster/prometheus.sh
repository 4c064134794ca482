# A real Prometheus server for the cluster test (sourced; uses test.sh's helm, kubectl and $repo):
# the chart's PrometheusRule loaded and the exporter scraped as its ServiceMonitor says, through
# kubectl port-forward to the exporter's Service. prometheus comes from ci/tools/install.sh.
# shellcheck shell=bash
prom_port=19090
prom_target_port=19464
prom_dir=

prom_start() { # namespace release helm-args... : renders the release's rules and monitor, starts both processes
  local ns=$1 release=$2
  shift 2
  prom_dir=$(mktemp -d)
  helm template "$release" "$repo/chart" -n "$ns" "$@" --api-versions monitoring.coreos.com/v1 \
    -s templates/metrics-prometheusrule.yaml -s templates/metrics-servicemonitor.yaml >"$prom_dir/rendered.yaml"
  (cd "$repo" && node ci/cluster/prometheus-config.mjs "$prom_dir" "127.0.0.1:$prom_target_port" <"$prom_dir/rendered.yaml")
  "$LAKEHOUSE_CACHE/bin/promtool" check config "$prom_dir/prometheus.yml" | sed 's/^/  /'
  kubectl -n "$ns" port-forward "svc/$release-metrics" "$prom_target_port:9464" >"$prom_dir/port-forward.log" 2>&1 &
  echo $! >"$prom_dir/port-forward.pid"
  "$LAKEHOUSE_CACHE/bin/prometheus" --config.file="$prom_dir/prometheus.yml" --storage.tsdb.path="$prom_dir/data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$prom_dir/prometheus.log" 2>&1 &
  echo $! >"$prom_dir/prometheus.pid"
  prom_wait 120 prom_scraping
}

prom_stop() {
  [[ -n $prom_dir ]] || return 0
  local pid
  for pid in prometheus port-forward; do [[ -f $prom_dir/$pid.pid ]] && kill "$(cat "$prom_dir/$pid.pid")" 2>/dev/null; done
  rm -rf "$prom_dir"
  prom_dir=
}

prom_api() { curl -fsS "http://127.0.0.1:$prom_port/api/v1/$1"; }

# What the API's answer says, through node: `prom_json PATH EXPRESSION` prints EXPRESSION over `data`.
prom_json() {
  local body
  body=$(prom_api "$1" 2>/dev/null) || return 1
  node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const data=JSON.parse(s).data;console.log(eval(process.argv[1]))})' "$2" <<<"$body"
}

prom_scraping() { # the target is up and every rule of the chart is loaded
  local health rules
  health=$(prom_json targets 'data.activeTargets.map(t => t.health).join(",")') || return 1
  rules=$(prom_json rules 'data.groups.flatMap(g => g.rules).length') || return 1
  echo "  targets: $health; rules loaded: $rules"
  [[ $health == up && $rules -ge 4 ]]
}

prom_alert_state() { # alertname : firing, pending or inactive
  prom_json alerts "(data.alerts.find(a => a.labels.alertname === '$1') || {state: 'inactive'}).state"
}

prom_wait() { # seconds command... : until the command succeeds, checking every 10 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "  not within the wait; Prometheus's log:" >&2
      tail -n 20 "$prom_dir/prometheus.log" >&2
      tail -n 5 "$prom_dir/port-forward.log" >&2
      return 1
    fi
    sleep 10
  done
}

prom_alert_is() { # alertname state
  local state
  state=$(prom_alert_state "$1") || return 1
  echo "  $(date -u +%H:%M:%S) $1: $state"
  [[ $state == "$2" ]]
}
