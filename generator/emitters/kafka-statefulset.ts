// Kafka in KRaft mode on the official apache/kafka image: every node is broker and controller.
import { StatefulSet } from 'kubernetes-models/apps/v1';
import type { IEnvVar } from 'kubernetes-models/v1';
import { createBinder, type Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import {
  image,
  KAFKA_CLIENT_PORT,
  KAFKA_CONTROLLER_PORT,
  kafkaClusterIdSecretName,
  kafkaHeadlessName,
  kafkaName,
  labels,
  selectorLabels,
  storageClassEntry,
} from '../names.ts';
import { containerSecurityContext, podSecurityContext } from '../pod-security.ts';
import { schedulingFields } from '../scheduling.ts';
import { KAFKA_ROLES, userName, userSecretKey, userSecretName } from '../kafka-access.ts';
import { tlsSecretName } from './kafka-security-secrets.ts';

/** Where the image's scripts and Kafka write; the root filesystem is read-only. */
const DATA_DIR = '/var/lib/kafka/data';
// A subdirectory, because Kafka refuses a log dir holding a filesystem's lost+found.
const LOG_DIRS = `${DATA_DIR}/kraft`;

/** Where the cluster id Secret is mounted: a file, so the id is in no environment a process dump shows. */
export const CLUSTER_ID_DIR = '/etc/kafka/cluster-id';
export const CLUSTER_ID_KEY = 'cluster-id';

/** The nodes' certificate (ca.crt, tls.crt, tls.key) and the users' passwords (<dir>/<role>/password). */
export const KAFKA_TLS_DIR = '/etc/kafka/tls';
export const KAFKA_USERS_DIR = '/etc/kafka/users';
/** Kafka's PEM keystore, written at start from the Secret's key and certificate. */
const KEYSTORE = '/tmp/kafka-tls/keystore.pem';

// The image's own entry point turns KAFKA_* variables into server.properties and formats the
// storage; this script first computes the node id (the StatefulSet ordinal ending the hostname),
// reads the cluster id from its file, and with TLS and SCRAM on prepares what no KAFKA_* variable
// can carry:
//  - Kafka's PEM keystore takes PKCS#8 keys only; an RSA key in PKCS#1 (Helm's genSignedCert, many
//    Secrets) is wrapped in PKCS#8's header, byte for byte what `openssl pkcs8 -topk8` writes;
//  - the brokers sign in to each other as the admin: its password goes into server.properties (an
//    emptyDir), never into the pod spec;
//  - in KRaft, SCRAM users can exist from the start only in the storage's bootstrap metadata, so the
//    storage is formatted here with them (--ignore-formatted: once per volume); the image's own
//    format then finds it formatted.
const START_SCRIPT = String.raw`export KAFKA_NODE_ID="${'$'}{HOSTNAME##*-}"
CLUSTER_ID="$(cat ${CLUSTER_ID_DIR}/${CLUSTER_ID_KEY})"
export CLUSTER_ID
if [[ -n "${'$'}{KAFKA_SSL_KEYSTORE_LOCATION:-}" ]]; then
  umask 077
  mkdir -p "${'$'}{KAFKA_SSL_KEYSTORE_LOCATION%/*}"
  key=${KAFKA_TLS_DIR}/tls.key
  if grep -q 'BEGIN RSA PRIVATE KEY' "$key"; then
    der="$(sed '/-----/d' "$key" | base64 -d | od -An -v -tx1 | tr -d ' \n')"
    len=$((${'$'}{#der} / 2))
    hex="$(printf '3082%04x020100300d06092a864886f70d0101010500' $((len + 22)))0482$(printf '%04x' "$len")$der"
    { echo '-----BEGIN PRIVATE KEY-----'; printf "$(sed 's/../\\x&/g' <<<"$hex")" | base64 -w 64; echo '-----END PRIVATE KEY-----'; } > "$KAFKA_SSL_KEYSTORE_LOCATION"
  elif grep -q 'BEGIN PRIVATE KEY' "$key"; then
    cat "$key" > "$KAFKA_SSL_KEYSTORE_LOCATION"
  else
    echo "kafka: $key (Secret $LAKEHOUSE_KAFKA_TLS_SECRET, key tls.key) holds neither an unencrypted PKCS#8 key nor an RSA PKCS#1 key" >&2
    exit 1
  fi
  cat ${KAFKA_TLS_DIR}/tls.crt >> "$KAFKA_SSL_KEYSTORE_LOCATION"
fi
if [[ -n "${'$'}{KAFKA_SASL_ENABLED_MECHANISMS:-}" ]]; then
  mechanism="$KAFKA_SASL_ENABLED_MECHANISMS"
  scram=()
  for role in admin producer pipeline; do
    user_variable="LAKEHOUSE_KAFKA_${'$'}{role^^}_USER"
    user="${'$'}{!user_variable}"
    password="$(cat "${KAFKA_USERS_DIR}/$role/password")"
    if [[ -z "$password" || "$password" == *[\\\",\]]* ]]; then
      echo "kafka: the password of Kafka user $user is empty or holds one of \\ \" , ] (which SCRAM's format arguments and JAAS cannot carry)" >&2
      exit 1
    fi
    scram+=(--add-scram "$mechanism=[name=$user,password=$password]")
    if [[ "$role" == admin ]]; then admin_password="$password"; fi
  done
  export "KAFKA_LISTENER_NAME_CLIENT_${'$'}{mechanism//-/___}_SASL_JAAS_CONFIG=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$LAKEHOUSE_KAFKA_ADMIN_USER\" password=\"$admin_password\";"
  format=/tmp/kafka-format.properties
  printf '%s\n' "process.roles=$KAFKA_PROCESS_ROLES" "node.id=$KAFKA_NODE_ID" "controller.quorum.voters=$KAFKA_CONTROLLER_QUORUM_VOTERS" \
    "controller.listener.names=$KAFKA_CONTROLLER_LISTENER_NAMES" "listeners=$KAFKA_LISTENERS" \
    "listener.security.protocol.map=$KAFKA_LISTENER_SECURITY_PROTOCOL_MAP" \
    "inter.broker.listener.name=$KAFKA_INTER_BROKER_LISTENER_NAME" "log.dirs=$KAFKA_LOG_DIRS" > "$format"
  /opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id="$CLUSTER_ID" -c "$format" "${'$'}{scram[@]}"
fi
exec /etc/kafka/docker/run`;

const TLS_ON = '.Values.kafka.tls.enabled';
const AUTH_ON = '.Values.kafka.auth.enabled';
const mechanism = (v: Binder) => v.expr('.Values.kafka.auth.mechanism | upper', 'SCRAM-SHA-512', { quote: true });

const tlsEnv = (v: Binder): IEnvVar[] =>
  v.when(TLS_ON, v.defaultOf<boolean>('kafka.tls.enabled'), [
    { name: 'KAFKA_SSL_KEYSTORE_TYPE', value: 'PEM' },
    { name: 'KAFKA_SSL_KEYSTORE_LOCATION', value: KEYSTORE },
    { name: 'KAFKA_SSL_TRUSTSTORE_TYPE', value: 'PEM' },
    { name: 'KAFKA_SSL_TRUSTSTORE_LOCATION', value: `${KAFKA_TLS_DIR}/ca.crt` },
    // KRaft controllers cannot use SCRAM (its credentials live in the metadata they serve): the
    // controller listener authenticates the nodes by their certificate.
    { name: 'KAFKA_LISTENER_NAME_CONTROLLER_SSL_CLIENT_AUTH', value: 'required' },
    { name: 'LAKEHOUSE_KAFKA_TLS_SECRET', value: tlsSecretName(v) },
  ]);

const authEnv = (v: Binder): IEnvVar[] =>
  v.when(AUTH_ON, v.defaultOf<boolean>('kafka.auth.enabled'), [
    { name: 'KAFKA_SASL_ENABLED_MECHANISMS', value: mechanism(v) },
    { name: 'KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL', value: mechanism(v) },
    { name: 'KAFKA_AUTHORIZER_CLASS_NAME', value: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' },
    {
      name: 'KAFKA_SUPER_USERS',
      value: v.expr(
        `printf "User:%s;User:%s" (include "lakehouse.kafka.nodePrincipal" .) .Values.kafka.auth.users.admin.name`,
        'User:CN=lakehouse-kafka;User:lakehouse-admin',
        { quote: true },
      ),
    },
    { name: 'KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND', value: 'false' },
    ...KAFKA_ROLES.map((role) => ({ name: `LAKEHOUSE_KAFKA_${role.toUpperCase()}_USER`, value: userName(v, role) })),
  ]);

// The client listener is CLIENT when secured, and keeps its old name PLAINTEXT when not, so that
// a release upgraded with TLS and users off restarts its brokers one by one under the same name.
const CLIENT_LISTENER = `ternary "CLIENT" "PLAINTEXT" (or .Values.kafka.tls.enabled .Values.kafka.auth.enabled)`;

const kafkaEnv = (v: Binder): IEnvVar[] => {
  const client = v.expr(CLIENT_LISTENER, 'CLIENT');
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'KAFKA_PROCESS_ROLES', value: 'broker,controller' },
    { name: 'KAFKA_LISTENERS', value: `${client}://:${KAFKA_CLIENT_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT}` },
    {
      name: 'KAFKA_ADVERTISED_LISTENERS',
      value: `${client}://$(POD_NAME).${kafkaHeadlessName(v)}.$(POD_NAMESPACE).svc:${KAFKA_CLIENT_PORT}`,
    },
    {
      name: 'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP',
      value: v.expr(
        `printf "CONTROLLER:%s,%s:%s" (ternary "SSL" "PLAINTEXT" .Values.kafka.tls.enabled) (${CLIENT_LISTENER}) (include "lakehouse.kafka.security" . | upper)`,
        'CONTROLLER:SSL,CLIENT:SASL_SSL',
        { quote: true },
      ),
    },
    { name: 'KAFKA_CONTROLLER_LISTENER_NAMES', value: 'CONTROLLER' },
    { name: 'KAFKA_INTER_BROKER_LISTENER_NAME', value: client },
    ...tlsEnv(v),
    ...authEnv(v),
    {
      name: 'KAFKA_CONTROLLER_QUORUM_VOTERS',
      value: v.expr(
        `include "lakehouse.kafka.quorumVoters" .`,
        `0@lakehouse-kafka-0.lakehouse-kafka-headless.default.svc:${KAFKA_CONTROLLER_PORT}`,
        { quote: true },
      ),
    },
    { name: 'KAFKA_LOG_DIRS', value: LOG_DIRS },
    {
      name: 'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
      value: v.expr(`min 3 (int .Values.kafka.replicas)`, '1', { quote: true }),
    },
    {
      name: 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR',
      value: v.expr(`min 3 (int .Values.kafka.replicas)`, '1', { quote: true }),
    },
    {
      name: 'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR',
      value: v.expr(`min 2 (int .Values.kafka.replicas)`, '1', { quote: true }),
    },
    // The default for every topic, internal ones included; the topics job also sets it on the events topic.
    { name: 'KAFKA_MIN_INSYNC_REPLICAS', value: v.str('topic.minInsyncReplicas') },
    { name: 'KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS', value: '0' },
    { name: 'KAFKA_AUTO_CREATE_TOPICS_ENABLE', value: 'false' },
    { name: 'KAFKA_HEAP_OPTS', value: v.str('kafka.heapOpts') },
    { name: 'LOG_DIR', value: '/opt/kafka/logs' },
    ...v.items<IEnvVar>('kafka.extraEnv'),
  ];
};

/** What "lakehouse.kafka.affinity" renders with the default values (soft anti-affinity), for validation. */
const defaultKafkaAffinity = (v: Binder) => {
  const term = {
    topologyKey: 'kubernetes.io/hostname',
    labelSelector: { matchLabels: selectorLabels(createBinder('defaults'), 'kafka') },
  };
  const mode = v.defaultOf<string>('kafka.podAntiAffinity');
  if (mode === 'hard') return { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } };
  if (mode === 'soft')
    return {
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    };
  return {};
};

const tcpProbe = (port: number, extra: Record<string, number>) => ({
  tcpSocket: { port },
  ...extra,
});

export const kafkaStatefulSet: Emitter = {
  file: 'templates/kafka-statefulset.yaml',
  when: (v) => v.cond('.Values.kafka.enabled'),
  build: (v) =>
    new StatefulSet({
      metadata: { name: kafkaName(v), labels: labels(v, 'kafka') },
      spec: {
        serviceName: kafkaHeadlessName(v),
        replicas: v.int('kafka.replicas'),
        // Controllers must all be up to form the quorum, so they start together.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selectorLabels(v, 'kafka') },
        template: {
          metadata: { labels: labels(v, 'kafka') },
          spec: {
            automountServiceAccountToken: false,
            // Service links would inject *_PORT variables that the image reads as KAFKA_* properties.
            enableServiceLinks: false,
            securityContext: podSecurityContext(),
            ...schedulingFields(v),
            affinity: v.block(`include "lakehouse.kafka.affinity" .`, defaultKafkaAffinity(v)),
            ...v.whenKeys('.Values.kafka.zoneSpread', v.defaultOf<boolean>('kafka.zoneSpread'), {
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: 'topology.kubernetes.io/zone',
                  whenUnsatisfiable: 'ScheduleAnyway',
                  labelSelector: { matchLabels: selectorLabels(v, 'kafka') },
                },
              ],
            }),
            containers: [
              {
                name: 'kafka',
                ...image(v, 'kafka.image'),
                command: ['bash', '-ec', START_SCRIPT],
                ports: [
                  { name: 'client', containerPort: KAFKA_CLIENT_PORT, protocol: 'TCP' },
                  { name: 'controller', containerPort: KAFKA_CONTROLLER_PORT, protocol: 'TCP' },
                ],
                env: kafkaEnv(v),
                resources: v.block(`toYaml .Values.kafka.resources`, v.defaultOf('kafka.resources')),
                startupProbe: tcpProbe(KAFKA_CLIENT_PORT, { periodSeconds: 5, failureThreshold: 60 }),
                // Ready when the broker takes clients; alive while the controller answers, so a broker
                // that stops taking clients is taken out of the Service but not restarted at once.
                readinessProbe: tcpProbe(KAFKA_CLIENT_PORT, { periodSeconds: 10, failureThreshold: 3 }),
                livenessProbe: tcpProbe(KAFKA_CONTROLLER_PORT, { periodSeconds: 20, failureThreshold: 6 }),
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: 'data', mountPath: DATA_DIR },
                  { name: 'config', mountPath: '/opt/kafka/config' },
                  { name: 'logs', mountPath: '/opt/kafka/logs' },
                  { name: 'tmp', mountPath: '/tmp' },
                  { name: 'cluster-id', mountPath: CLUSTER_ID_DIR, readOnly: true },
                  ...v.when(TLS_ON, v.defaultOf<boolean>('kafka.tls.enabled'), [
                    { name: 'kafka-tls', mountPath: KAFKA_TLS_DIR, readOnly: true },
                  ]),
                  ...v.when(
                    AUTH_ON,
                    v.defaultOf<boolean>('kafka.auth.enabled'),
                    KAFKA_ROLES.map((role) => ({
                      name: `kafka-user-${role}`,
                      mountPath: `${KAFKA_USERS_DIR}/${role}`,
                      readOnly: true,
                    })),
                  ),
                ],
              },
            ],
            volumes: [
              {
                name: 'cluster-id',
                secret: {
                  secretName: kafkaClusterIdSecretName(v),
                  items: [{ key: CLUSTER_ID_KEY, path: CLUSTER_ID_KEY }],
                },
              },
              ...v.when(TLS_ON, v.defaultOf<boolean>('kafka.tls.enabled'), [
                {
                  name: 'kafka-tls',
                  secret: {
                    secretName: tlsSecretName(v),
                    items: ['ca.crt', 'tls.crt', 'tls.key'].map((key) => ({ key, path: key })),
                  },
                },
              ]),
              ...v.when(
                AUTH_ON,
                v.defaultOf<boolean>('kafka.auth.enabled'),
                KAFKA_ROLES.map((role) => ({
                  name: `kafka-user-${role}`,
                  secret: {
                    secretName: userSecretName(v, role),
                    items: [{ key: userSecretKey(v, role), path: 'password' }],
                  },
                })),
              ),
              { name: 'config', emptyDir: {} },
              { name: 'logs', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data', labels: selectorLabels(v, 'kafka') },
            spec: {
              accessModes: ['ReadWriteOnce'],
              ...storageClassEntry(v, 'kafka.storage.storageClass'),
              resources: { requests: { storage: v.str('kafka.storage.size') } },
            },
          },
        ],
      },
    }),
};
