# The "spark" scenario of test.sh (sourced; uses its step, helm, kubectl and now): the Spark engine in
# Kubernetes. The chart is installed with engine=spark and two executors per stage into a namespace of
# its own that enforces the restricted Pod Security Standard, on the locally built apache/spark image
# (images/build.sh: it holds the Kafka connector and Iceberg's runtime, so --packages is left out and
# nothing is fetched at run time):
#   - the API server refuses a pod that breaks the restricted standard in that namespace;
#   - the hooks succeed in hook-weight order: bronze, silver and gold each as spark-submit in cluster
#     mode, whose driver pod (from the chart's pod template) registered two executors;
#   - helm test passes on the lake Spark wrote;
#   - each stage's time (hook Job start to completion) is printed;
#   - uninstall and namespace deletion.
# CPU requests are lowered (driver and executors 250m, still 1 core each for tasks) so that the
# driver, two executors, Kafka and the submitting Job fit the 2-core node.
# shellcheck shell=bash
spark_ns=${LAKEHOUSE_SPARK_NAMESPACE:-lakehouse-spark}
spark_release=lakehouse
spark_values=(
  --set engine=spark
  --set spark.executor.instances=2
  --set spark.kafkaPackage=
  --set spark.icebergPackage=
  --set spark.driver.requestCores=250m
  --set spark.executor.requestCores=250m
)
kspark() { kubectl -n "$spark_ns" "$@"; }

spark_diagnostics() {
  kspark get jobs,pods -o wide >&2 || true
  kspark get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 30 >&2 || true
  local pod
  for pod in $(kspark get pods -o name 2>/dev/null); do
    echo "--- $pod" >&2
    # stack frames left out: the exception lines say what failed
    kspark logs "$pod" --all-containers | grep -v $'^\tat \|^\t\.\.\. [0-9]* more' | tail -n 40 >&2 || true
  done
}

spark_install() {
  helm install "$spark_release" "$repo/chart" -n "$spark_ns" "${spark_values[@]}" --wait --timeout 30m || {
    spark_diagnostics
    return 1
  }
}

# "<weight> <name> <start> <completion> <succeeded>" of the release's hook Jobs in the namespace.
spark_hook_jobs() {
  kspark get jobs -l "app.kubernetes.io/instance=$spark_release" -o go-template='{{range .items}}{{with index .metadata.annotations "helm.sh/hook-weight"}}{{.}}{{else}}0{{end}} {{.metadata.name}} {{.status.startTime}} {{or .status.completionTime "-"}} {{or .status.succeeded 0}}{{"\n"}}{{end}}' \
    | sort -n -k1,1 -k3,3
}

# Every hook Job succeeded, each started after the one before completed; prints each one's time.
spark_hooks_in_order() {
  local previous_end="" count=0 weight job start end succeeded
  while read -r weight job start end succeeded; do
    count=$((count + 1))
    if [[ $end == - || $succeeded -lt 1 ]]; then echo "  $job did not complete" >&2; return 1; fi
    echo "  hook job $job (weight $weight): $start -> $end, $(($(date -d "$end" +%s) - $(date -d "$start" +%s)))s"
    if [[ -n $previous_end && $start < $previous_end ]]; then
      echo "  $job started at $start, before the previous hook finished ($previous_end)" >&2; return 1
    fi
    previous_end=$end
  done < <(spark_hook_jobs)
  ((count >= 5)) || { echo "  $count hook Jobs, expected topics, producer, bronze, silver, gold" >&2; return 1; }
}

# Each stage's driver pod ran from the chart's template (restricted settings) and registered two executors.
drivers_had_two_executors() {
  local stage pod executors log
  for stage in bronze silver gold; do
    pod=$(kspark get pods -l spark-role=driver -o go-template='{{range .items}}{{.metadata.name}}{{"\n"}}{{end}}' | grep -- "-$stage-" | tail -n 1)
    [[ -n $pod ]] || { echo "  no driver pod of $stage" >&2; return 1; }
    log=$(kspark logs "$pod")
    executors=$(grep -o 'Registered executor .* with ID [0-9]*' <<<"$log" | grep -o '[0-9]*$' | sort -u | wc -l)
    echo "  $stage: driver $pod ($(kspark get pod "$pod" -o jsonpath='{.status.phase}, runAsUser {.spec.securityContext.runAsUser}, readOnlyRootFilesystem {.spec.containers[0].securityContext.readOnlyRootFilesystem}')), $executors executor(s) registered"
    # The stage's own time (SparkSession start-up included) and what the API refused the driver, if anything.
    grep -o '"msg": "finished", "ok": [a-z]*, "seconds": [0-9.]*' <<<"$log" | sed 's/^/    stage log: /' || true
    grep -o '[a-z]* is forbidden: User "[^"]*" cannot [a-z]* resource "[a-z]*"' <<<"$log" | sort -u | sed 's/^/    refused: /' || true
    ((executors == 2)) || { tail -n 40 <<<"$log" >&2; return 1; }
  done
}

spark_teardown() {
  helm uninstall "$spark_release" -n "$spark_ns" --wait --timeout 5m
  namespace_gone "$spark_ns"
}

step "spark: namespace $spark_ns enforcing the restricted Pod Security Standard" restricted_namespace "$spark_ns"
step "spark: a pod breaking the standard is refused" restricted_refused "$spark_ns"
step "spark: helm install (engine=spark, 2 executors)" spark_install
step "spark: hook jobs completed in order" spark_hooks_in_order
step "spark: each stage's driver registered 2 executors" drivers_had_two_executors
step "spark: helm test on the Spark-written lake" helm test "$spark_release" -n "$spark_ns" --logs --timeout 10m
step "spark: uninstall and delete the namespace" spark_teardown
