# The "soak" scenario of test.sh (sourced; not in the default run): ten minutes of the chart running
# itself, measured. Two releases side by side, each in its own namespace, with a one-minute pipeline
# schedule, the continuous producer and the metrics exporter; one also runs maintenance every three
# minutes. A pod in each release scrapes its exporter every 30 s; the samples (lag per partition,
# seconds since gold's last success, data files and rows per table) are printed, then a summary.
# shellcheck shell=bash
source "$here/scenario-schedule.sh" --functions-only
soak_minutes=${LAKEHOUSE_SOAK_MINUTES:-10}
soak_rate=${LAKEHOUSE_SOAK_EVENTS_PER_SECOND:-10}
soak_maintenance=${LAKEHOUSE_SOAK_MAINTENANCE:-*/3 * * * *}
soak_log=${LAKEHOUSE_SOAK_LOG:-$LAKEHOUSE_CACHE/cluster/last-soak.log}

soak_install() { # namespace extra-helm-args...
  local ns=$1; shift
  restricted_namespace "$ns"
  helm install "$sched_release" "$repo/chart" -n "$ns" \
    --set "schedule.pipeline=*/1 * * * *" --set producer.mode=continuous --set "producer.eventsPerSecond=$soak_rate" \
    --set metrics.enabled=true "$@" --wait --timeout 20m
}

soak_sample() {
  local samples=$((soak_minutes * 2 + 1)) pids=() ns status=0
  mkdir -p "$(dirname "$soak_log")"
  : > "$soak_log"
  for ns in soak-maintained soak-plain; do
    sample_metrics_in_cluster "$ns" lakehouse-soak "$ns=http://$sched_release-metrics.$ns.svc:9464/metrics" "$samples" 30 >> "$soak_log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  sort -t= -k2 -n "$soak_log" | grep '^sample' | sed 's/^/  /'
  return "$status"
}

soak_summary() {
  echo "  soak: ${soak_minutes} min, producer ${soak_rate} events/s per release, pipeline every minute, maintenance \"$soak_maintenance\" in soak-maintained only"
  node - "$soak_log" <<'JS'
const lines = require("node:fs").readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.startsWith("sample "));
const releases = new Map();
for (const line of lines) {
  const [, t, name] = /^sample t=(\d+)s (\S+)/.exec(line) ?? [];
  const field = (key) => new RegExp(`${key}=(\\S+)`).exec(line)?.[1];
  if (!name || line.includes(" error=")) continue;
  const pairs = (text) => Object.fromEntries((text ?? "-").split(",").filter((p) => p.includes(":")).map((p) => { const i = p.lastIndexOf(":"); return [p.slice(0, i), Number(p.slice(i + 1))]; }));
  const r = releases.get(name) ?? [];
  r.push({ t: Number(t), goldAge: Number(field("gold_age")?.replace(/s$/, "")), lag: pairs(field("lag")), files: pairs(field("files")), rows: pairs(field("rows")) });
  releases.set(name, r);
}
const stats = (xs) => { const v = xs.filter(Number.isFinite); return v.length ? `min ${Math.min(...v)}, mean ${Math.round(v.reduce((a, b) => a + b, 0) / v.length)}, max ${Math.max(...v)}` : "-"; };
for (const [name, samples] of releases) {
  console.log(`  ${name}: ${samples.length} samples`);
  console.log(`    seconds since gold's last success: ${stats(samples.map((s) => s.goldAge))}`);
  for (const p of Object.keys(samples.at(-1).lag).sort()) console.log(`    lag partition ${p} (records): ${stats(samples.map((s) => s.lag[p]))}`);
  const first = samples[0], last = samples.at(-1);
  for (const table of Object.keys(last.files).sort()) {
    console.log(`    ${table}: data files ${first.files[table] ?? "-"} -> ${last.files[table]} (max ${Math.max(...samples.map((s) => s.files[table] ?? 0))}), rows ${first.rows[table] ?? "-"} -> ${last.rows[table] ?? "-"}`);
  }
}
JS
}

soak_teardown() {
  local ns
  for ns in soak-maintained soak-plain; do
    helm uninstall "$sched_release" -n "$ns" --wait --timeout 5m || true
    namespace_gone "$ns"
  done
}

step "soak: install with maintenance (soak-maintained)" soak_install soak-maintained --set "schedule.maintenance=$soak_maintenance"
step "soak: install without maintenance (soak-plain)" soak_install soak-plain
step "soak: sample /metrics every 30 s for $soak_minutes min" soak_sample
step "soak: summary" soak_summary
step "soak: uninstall and delete the namespaces" soak_teardown
