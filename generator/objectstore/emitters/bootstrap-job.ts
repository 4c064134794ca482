// The table bucket the catalog serves (SeaweedFS's catalog works on S3 Tables buckets only),
// created by a post-install/post-upgrade hook Job with `weed shell` on the store's own image. It is
// idempotent: it creates the bucket only when the store says there is none, and waits for the store
// (Helm does not wait for it before post-install hooks). Weight 5: before the lakehouse's hooks.
import { Job } from 'kubernetes-models/batch/v1';
import type { Emitter } from '../../emitter.ts';
import { containerSecurityContext, podSecurityContext } from '../../pod-security.ts';
import { schedulingFields } from '../../scheduling.ts';
import { fullname, headlessName, image, labels } from '../chart-names.ts';
import { MASTER_GRPC_PORT, MASTER_PORT, S3_IDENTITY } from '../names.ts';

export const BOOTSTRAP_HOOK_WEIGHT = 5;

// `weed shell` exits 1 on a command's error and waits for a master it cannot reach, hence the timeout.
const SCRIPT = `set -u
run() { echo "$1" | timeout 30 weed shell -master="$MASTER" 2>&1; }
deadline=$(( $(date +%s) + WAIT_SECONDS ))
while :; do
  if out=$(run "s3tables.bucket -get -name $BUCKET -account $ACCOUNT"); then
    echo "bootstrap: table bucket $BUCKET exists"; exit 0
  fi
  case $out in
    *NoSuchBucket*)
      if out=$(run "s3tables.bucket -create -name $BUCKET -account $ACCOUNT"); then
        echo "bootstrap: created table bucket $BUCKET: $out"; exit 0
      fi ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "bootstrap: no table bucket $BUCKET in the store at $MASTER within $WAIT_SECONDS s: $out" >&2; exit 1
  fi
  echo "bootstrap: waiting for the store at $MASTER: $(echo "$out" | tail -n 1)"
  sleep 3
done`;

export const bootstrapJob: Emitter = {
  file: 'templates/bootstrap-job.yaml',
  when: (v) => v.cond('.Values.enabled'),
  build: (v) =>
    new Job({
      metadata: {
        name: fullname(v, '-bootstrap'),
        labels: labels(v, 'bootstrap'),
        annotations: {
          'helm.sh/hook': 'post-install,post-upgrade',
          'helm.sh/hook-weight': String(BOOTSTRAP_HOOK_WEIGHT),
          'helm.sh/hook-delete-policy': 'before-hook-creation',
        },
      },
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: v.int('bootstrap.activeDeadlineSeconds'),
        template: {
          metadata: { labels: labels(v, 'bootstrap') },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: podSecurityContext(),
            ...schedulingFields(v),
            containers: [
              {
                name: 'bootstrap',
                ...image(v),
                command: ['/bin/sh', '-c', SCRIPT],
                env: [
                  {
                    name: 'MASTER',
                    value: `${headlessName(v)}.${v.expr('.Release.Namespace', 'lakehouse')}.svc:${MASTER_PORT}.${MASTER_GRPC_PORT}`,
                  },
                  { name: 'BUCKET', value: v.str('tableBucket') },
                  { name: 'ACCOUNT', value: S3_IDENTITY },
                  {
                    name: 'WAIT_SECONDS',
                    value: v.expr('sub (int .Values.bootstrap.activeDeadlineSeconds) 20 | toString', '580', {
                      quote: true,
                    }),
                  },
                  { name: 'HOME', value: '/tmp' },
                ],
                resources: v.block('toYaml .Values.bootstrap.resources', v.defaultOf('bootstrap.resources')),
                securityContext: containerSecurityContext(),
                volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              },
            ],
            volumes: [{ name: 'tmp', emptyDir: {} }],
          },
        },
      },
    }),
};
