// SeaweedFS as one `weed server` (master, volume server, filer, S3 gateway and its Iceberg REST
// catalog in one process) on its own volume. `weed server` rather than `weed mini`: mini also runs
// an admin server and worker that cannot be turned off, and saves its flags in the data directory
// and reads them back on the next start, so a flag a chart upgrade drops would come back.
import { StatefulSet } from 'kubernetes-models/apps/v1';
import type { Emitter } from '../../emitter.ts';
import { containerSecurityContext, podSecurityContext } from '../../pod-security.ts';
import { schedulingFields } from '../../scheduling.ts';
import { fullname, headlessName, image, labels, selectorLabels, storageClassEntry } from '../chart-names.ts';
import {
  CATALOG_PORT,
  FILER_GRPC_PORT,
  FILER_PORT,
  MASTER_GRPC_PORT,
  MASTER_PORT,
  S3_GRPC_PORT,
  S3_PORT,
  SECRET_KEYS,
  VOLUME_GRPC_PORT,
  VOLUME_PORT,
} from '../names.ts';
import { storeSecretName } from './secret.ts';
import { STORE_PORTS } from './services.ts';

export const DATA_DIR = '/data';
const IDENTITIES_DIR = '/etc/seaweedfs/s3';

export const storeStatefulSet: Emitter = {
  file: 'templates/statefulset.yaml',
  when: (v) => v.cond('.Values.enabled'),
  build: (v) => {
    // The name the store advertises to itself and to `weed shell`: stable across restarts (its Raft
    // state records it), unlike the pod's address.
    const advertised = `$(POD_NAME).${headlessName(v)}.$(POD_NAMESPACE).svc`;
    const s3Url = `http://${fullname(v, '-s3')}.$(POD_NAMESPACE).svc:${S3_PORT}`;
    return new StatefulSet({
      metadata: { name: fullname(v), labels: labels(v, 'server') },
      spec: {
        serviceName: headlessName(v),
        replicas: 1,
        selector: { matchLabels: selectorLabels(v, 'server') },
        template: {
          metadata: { labels: labels(v, 'server') },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: podSecurityContext(),
            // A graceful stop of every component takes up to about 25 s.
            terminationGracePeriodSeconds: 45,
            ...schedulingFields(v),
            containers: [
              {
                name: 'seaweedfs',
                ...image(v),
                command: ['weed'],
                args: [
                  // glog's flags come before the subcommand.
                  '-logtostderr=true',
                  'server',
                  `-dir=${DATA_DIR}`,
                  `-ip=${advertised}`,
                  '-ip.bind=0.0.0.0',
                  `-master.port=${MASTER_PORT}`,
                  `-master.port.grpc=${MASTER_GRPC_PORT}`,
                  // One master: after a restart it elects itself within seconds, not the default 10 s and more.
                  '-master.electionTimeout=1s',
                  `-master.volumeSizeLimitMB=${v.int('volumeSizeLimitMB')}`,
                  // On by default, posting to the project's telemetry server.
                  '-master.telemetry=false',
                  `-volume.port=${VOLUME_PORT}`,
                  `-volume.port.grpc=${VOLUME_GRPC_PORT}`,
                  // As many volume files as the data volume's free space holds.
                  '-volume.max=0',
                  '-filer',
                  `-filer.port=${FILER_PORT}`,
                  `-filer.port.grpc=${FILER_GRPC_PORT}`,
                  '-s3',
                  `-s3.port=${S3_PORT}`,
                  `-s3.port.grpc=${S3_GRPC_PORT}`,
                  `-s3.port.iceberg=${CATALOG_PORT}`,
                  '-s3.port.lance=0',
                  `-s3.config=${IDENTITIES_DIR}/${SECRET_KEYS.identities}`,
                  // The S3 address the catalog gives its clients in a table's config: the Service.
                  `-s3.externalUrl=${s3Url}`,
                ],
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  // weed looks for its configuration files under $HOME; the root file system is read-only.
                  { name: 'HOME', value: '/tmp' },
                ],
                ports: STORE_PORTS.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
                resources: v.block('toYaml .Values.resources', v.defaultOf('resources')),
                // S3 answers /healthz once the master, volume server and filer it needs are up.
                startupProbe: { httpGet: { path: '/healthz', port: 's3' }, periodSeconds: 2, failureThreshold: 150 },
                readinessProbe: { httpGet: { path: '/healthz', port: 's3' }, periodSeconds: 10, failureThreshold: 3 },
                livenessProbe: { tcpSocket: { port: 'master' }, periodSeconds: 20, failureThreshold: 6 },
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: 'data', mountPath: DATA_DIR },
                  // weed's Unix sockets.
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'identities', mountPath: IDENTITIES_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: 'tmp', emptyDir: {} },
              {
                name: 'identities',
                secret: {
                  secretName: storeSecretName(v),
                  items: [{ key: SECRET_KEYS.identities, path: SECRET_KEYS.identities }],
                },
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: selectorLabels(v, 'server') },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...storageClassEntry(v, 'storage.storageClass'),
              resources: { requests: { storage: v.str('storage.size') } },
            },
          },
        ],
      },
    });
  },
};
