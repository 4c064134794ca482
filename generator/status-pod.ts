// The one-off pod NOTES.txt offers for `status` and the table commands when no exporter runs: the
// `--overrides` (strategic merge) of `kubectl run`, under the restricted Pod Security Standard,
// which mount the lake read-only (lake.catalog volume) or read the REST catalog with the keys from
// their Secrets (secretKeyRef). Values are Go-template expressions (raw strings in backticks, which
// JSON leaves alone), so the JSON is written into NOTES.txt as it is and Helm fills it in.
import { LAKE_MOUNT, SCRIPT_DIR } from './job-pod.ts';
import { containerSecurityContext, podSecurityContext } from './pod-security.ts';
import { CA_MOUNTED, KAFKA_CA_DIR, KAFKA_USER_DIR, PASSWORD_MOUNTED } from './kafka-access.ts';
import { CATALOG_CREDENTIAL_USED, REST_WORK_DIR } from './lake-backend.ts';

export const STATUS_POD_SUFFIX = '-status';
export const CURATE_POD_SUFFIX = '-curate';

/** `read`: status and the table commands, the lake read-only; `curate`: replay, rollback, forget, the lake writable. */
export type PodPurpose = 'read' | 'curate';

const go = (expr: string) => `{{ ${expr} }}`;

export type Backend = 'volume' | 'rest';

const secretEnv = (name: string, key: 'accessKeyId' | 'secretAccessKey' | 'credential') => ({
  name,
  valueFrom: {
    secretKeyRef: {
      name: go(
        key === 'credential'
          ? 'include `lakehouse.catalog.credentialSecretName` .'
          : 'include `lakehouse.lake.secretName` .',
      ),
      key: go(`include \`lakehouse.lake.secretKey\` (dict \`context\` $ \`key\` \`${key}\`)`),
    },
  },
});

/** Where the lake is: the volume's mount, or the REST catalog's settings (the credential added where used). */
const lakeEnv = (backend: Backend) =>
  backend === 'volume'
    ? [{ name: 'LAKEHOUSE_DATA_DIR', value: LAKE_MOUNT }]
    : [
        { name: 'LAKEHOUSE_CATALOG', value: 'rest' },
        { name: 'LAKEHOUSE_CATALOG_URI', value: go('include `lakehouse.catalog.uri` .') },
        { name: 'LAKEHOUSE_CATALOG_WAREHOUSE', value: go('include `lakehouse.catalog.warehouse` .') },
        { name: 'LAKEHOUSE_S3_ENDPOINT', value: go('include `lakehouse.s3.endpoint` .') },
        { name: 'AWS_REGION', value: go('.Values.lake.rest.region') },
        { name: 'LAKEHOUSE_WORK_DIR', value: REST_WORK_DIR },
        secretEnv('AWS_ACCESS_KEY_ID', 'accessKeyId'),
        secretEnv('AWS_SECRET_ACCESS_KEY', 'secretAccessKey'),
      ];

/**
 * `kubectl run --override-type=strategic --overrides` JSON; `bundled` mounts the bundled script's
 * ConfigMap (jobs.bundledScript), `backend` is lake.catalog.
 */
export function statusPodOverrides(bundled: boolean, backend: Backend, purpose: PodPurpose = 'read'): string {
  const name = `${go('$fullname')}${purpose === 'read' ? STATUS_POD_SUFFIX : CURATE_POD_SUFFIX}`;
  // What replay re-validates under, and the group whose offsets the pipeline commits: the pipeline Jobs' own.
  const curationEnv =
    purpose === 'curate'
      ? [
          { name: 'LAKEHOUSE_VEHICLE_TYPES', value: go('join `,` .Values.pipeline.vehicleTypes') },
          { name: 'LAKEHOUSE_CONSUMER_GROUP', value: go('.Values.pipeline.consumerGroup') },
          { name: 'LAKEHOUSE_LEASE_WAIT_SECONDS', value: go('.Values.pipeline.leaseWaitSeconds') },
        ]
      : [];
  const spec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
    containers: [
      {
        // The merge key: a strategic merge adds this to the container `kubectl run` makes (image, command, stdin).
        name,
        securityContext: containerSecurityContext(),
        env: [
          { name: 'KAFKA_BOOTSTRAP_SERVER', value: go('include `lakehouse.kafka.bootstrapServers` .') },
          { name: 'LAKEHOUSE_TOPIC', value: go('.Values.topic.name') },
          ...lakeEnv(backend),
          CATALOG_ENV,
          { name: 'LAKEHOUSE_KAFKA_WAIT_SECONDS', value: '15' },
          // Signs in as the pipeline user, as the metrics exporter does.
          { name: 'LAKEHOUSE_KAFKA_SECURITY', value: go('include `lakehouse.kafka.security` .') },
          { name: 'LAKEHOUSE_KAFKA_SASL_MECHANISM', value: go('.Values.kafka.auth.mechanism') },
          { name: 'LAKEHOUSE_KAFKA_CA_FILE', value: go('include `lakehouse.kafka.caFile` .') },
          { name: 'LAKEHOUSE_KAFKA_USER', value: go('.Values.kafka.auth.users.pipeline.name') },
          {
            name: 'LAKEHOUSE_KAFKA_PASSWORD_FILE',
            value: `${KAFKA_USER_DIR}/${go('include `lakehouse.kafka.userSecretKey` (dict `context` $ `role` `pipeline`)')}`,
          },
          ...curationEnv,
        ],
        volumeMounts: [
          KAFKA_MOUNTS,
          ...(backend === 'volume' ? [{ name: 'lake', mountPath: LAKE_MOUNT, readOnly: purpose === 'read' }] : []),
          { name: 'tmp', mountPath: '/tmp' },
          ...(bundled ? [{ name: 'script', mountPath: SCRIPT_DIR, readOnly: true }] : []),
        ],
      },
    ],
    volumes: [
      KAFKA_VOLUMES,
      ...(backend === 'volume'
        ? [{ name: 'lake', persistentVolumeClaim: { claimName: go('include `lakehouse.lakeClaimName` .') } }]
        : []),
      { name: 'tmp', emptyDir: backend === 'volume' ? {} : { sizeLimit: go('.Values.lake.workDirSize') } },
      ...(bundled ? [{ name: 'script', configMap: { name: `${go('$fullname')}-jobs` } }] : []),
    ],
  };
  // The release's labels: Kafka's NetworkPolicy admits only the release's pods, and status reads
  // Kafka's end offsets for bronze's lag.
  const metadata = {
    labels: {
      'app.kubernetes.io/name': go('include `lakehouse.name` .'),
      'app.kubernetes.io/instance': go('.Release.Name'),
    },
  };
  // The Kafka CA and password, and the catalog's credential, each only when it is used: Go-template
  // conditions around whole list items (each followed by its comma; an item that is always there
  // comes after them).
  const optional = (cond: string, item: object) => `{{ if ${cond} }}${JSON.stringify(item)},{{ end }}`;
  return JSON.stringify({ apiVersion: 'v1', metadata, spec })
    .replace(
      JSON.stringify(CATALOG_ENV) + ',',
      backend === 'rest'
        ? optional(CATALOG_CREDENTIAL_USED, secretEnv('LAKEHOUSE_CATALOG_CREDENTIAL', 'credential'))
        : '',
    )
    .replace(
      JSON.stringify(KAFKA_MOUNTS) + ',',
      [
        optional(CA_MOUNTED, { name: 'kafka-ca', mountPath: KAFKA_CA_DIR, readOnly: true }),
        optional(PASSWORD_MOUNTED, { name: 'kafka-user', mountPath: KAFKA_USER_DIR, readOnly: true }),
      ].join(''),
    )
    .replace(
      JSON.stringify(KAFKA_VOLUMES) + ',',
      [
        optional(CA_MOUNTED, {
          name: 'kafka-ca',
          secret: {
            secretName: go('include `lakehouse.kafka.caSecretName` .'),
            items: [{ key: 'ca.crt', path: 'ca.crt' }],
          },
        }),
        optional(PASSWORD_MOUNTED, {
          name: 'kafka-user',
          secret: {
            secretName: go('include `lakehouse.kafka.userSecretName` (dict `context` $ `role` `pipeline`)'),
            items: [
              {
                key: go('include `lakehouse.kafka.userSecretKey` (dict `context` $ `role` `pipeline`)'),
                path: go('include `lakehouse.kafka.userSecretKey` (dict `context` $ `role` `pipeline`)'),
              },
            ],
          },
        }),
      ].join(''),
    );
}

const KAFKA_MOUNTS = { name: '__kafka_mounts__' };
const CATALOG_ENV = { name: '__catalog_env__' };
const KAFKA_VOLUMES = { name: '__kafka_volumes__' };
