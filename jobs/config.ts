import { ConfigError } from './errors.ts';
import { producedTypes } from './events/vehicle-event.ts';
import { ParseError, parserOf, type KindName, type KindValues, type SettingKind } from './setting-kinds.ts';

/**
 * Every setting a job reads: an environment variable (as the chart sets it) that a `--flag` of the
 * same meaning overrides. Each is parsed and checked at start-up so that a bad value stops the job
 * with a message naming the setting, before anything touches Kafka or the lake.
 */
export interface Config {
  readonly bootstrapServers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly dataDir: string;
  readonly events: number;
  readonly invalidRatio: number;
  readonly duplicateRatio: number;
  readonly seed: number;
  readonly consumerGroup: string;
  readonly rowGroupSize: number;
  readonly fileRows: number;
  readonly dedupBucketEvents: number;
  readonly vehicleTypes: readonly string[];
  readonly kafkaWaitSeconds: number;
  readonly clientId: string;
  readonly verifyKafka: boolean;
  readonly snapshotRetentionHours: number;
  readonly keepSnapshots: number;
  readonly orphanAgeHours: number;
  readonly leaseWaitSeconds: number;
  readonly metricsPort: number;
  readonly explorerPort: number;
  /** Event time of the first produced event, epoch ms; `now` is resolved when the setting is read. */
  readonly startTime: number;
  readonly producerMode: ProducerMode;
  readonly eventsPerSecond: number;
  readonly readyFile: string;
  readonly kafkaSecurity: KafkaSecurity;
  readonly kafkaSaslMechanism: KafkaSaslMechanism;
  readonly kafkaCaFile: string;
  readonly kafkaUser: string;
  readonly kafkaPasswordFile: string;
  readonly kafkaAcls: boolean;
  readonly kafkaProducerUser: string;
  readonly kafkaPipelineUser: string;
  readonly catalog: CatalogKind;
  readonly catalogUri: string;
  readonly catalogWarehouse: string;
  readonly catalogCredential: string;
  readonly s3Endpoint: string;
  readonly awsAccessKeyId: string;
  readonly awsSecretAccessKey: string;
  readonly awsRegion: string;
  readonly workDir: string;
  readonly migrateFrom: string;
}

/** How a job talks to Kafka: TLS and a SASL user (the default), TLS only, a SASL user without TLS (an opted-in existing Kafka), or neither (a trusted dev cluster). */
export const kafkaSecurities = ['sasl_ssl', 'ssl', 'sasl_plaintext', 'plaintext'] as const;
export type KafkaSecurity = (typeof kafkaSecurities)[number];
export const kafkaSaslMechanisms = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];
/** LAKEHOUSE_KAFKA_CA_FILE's word for "the CAs Node trusts by default" (a public CA's certificate). */
export const SYSTEM_CA = 'system';

/** Where the tables are: the volume (HadoopCatalog layout) or an Iceberg REST catalog on object storage. */
export const catalogKinds = ['volume', 'rest'] as const;
export type CatalogKind = (typeof catalogKinds)[number];

/** `once` sends LAKEHOUSE_EVENTS events and ends; `continuous` streams until it is stopped. */
export const producerModes = ['once', 'continuous'] as const;
export type ProducerMode = (typeof producerModes)[number];

/** The kinds whose value type is `T`: what a setting of that type may be declared with. */
type KindFor<T> =
  | { [N in KindName]: [KindValues[N]] extends [T] ? ([T] extends [KindValues[N]] ? N : never) : never }[KindName]
  // A union of words (a mode) is read by `oneOf`.
  | ([T] extends [string] ? (string extends T ? never : 'oneOf') : never);

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly env: string;
  readonly flag: string;
  readonly defaultValue: string;
  readonly parser: Extract<SettingKind, { kind: KindFor<Config[K]> }>;
  readonly description: string;
}

function setting<K extends keyof Config>(s: Setting<K>): Setting<K> {
  return s;
}

export const settings = [
  setting({
    key: 'bootstrapServers',
    env: 'KAFKA_BOOTSTRAP_SERVER',
    flag: 'bootstrap-server',
    defaultValue: 'localhost:9092',
    parser: { kind: 'hostPortList' },
    description: 'Kafka bootstrap servers, comma-separated host:port',
  }),
  setting({
    key: 'topic',
    env: 'LAKEHOUSE_TOPIC',
    flag: 'topic',
    defaultValue: 'vehicles-events',
    parser: { kind: 'topicName' },
    description: 'Kafka topic of the vehicle events',
  }),
  setting({
    key: 'partitions',
    env: 'LAKEHOUSE_PARTITIONS',
    flag: 'partitions',
    defaultValue: '3',
    parser: { kind: 'integer', min: 1, max: 10_000 },
    description: 'partitions the topics job creates',
  }),
  setting({
    key: 'replicationFactor',
    env: 'LAKEHOUSE_REPLICATION_FACTOR',
    flag: 'replication-factor',
    defaultValue: '1',
    parser: { kind: 'integer', min: 1, max: 32 },
    description: 'replication factor the topics job uses',
  }),
  setting({
    key: 'minInsyncReplicas',
    env: 'LAKEHOUSE_MIN_INSYNC_REPLICAS',
    flag: 'min-insync-replicas',
    defaultValue: '1',
    parser: { kind: 'integer', min: 1, max: 32 },
    description: "the topic's min.insync.replicas, set by the topics job",
  }),
  setting({
    key: 'dataDir',
    env: 'LAKEHOUSE_DATA_DIR',
    flag: 'data-dir',
    defaultValue: './data',
    parser: { kind: 'nonEmpty' },
    description: 'root directory of the lake',
  }),
  setting({
    key: 'events',
    env: 'LAKEHOUSE_EVENTS',
    flag: 'events',
    defaultValue: '30',
    parser: { kind: 'integer', min: 0, max: 1_000_000_000 },
    description: 'events the producer sends',
  }),
  setting({
    key: 'invalidRatio',
    env: 'LAKEHOUSE_INVALID_RATIO',
    flag: 'invalid-ratio',
    defaultValue: '0.05',
    parser: { kind: 'ratio' },
    description: 'share of deliberately invalid events (0..1)',
  }),
  setting({
    key: 'duplicateRatio',
    env: 'LAKEHOUSE_DUPLICATE_RATIO',
    flag: 'duplicate-ratio',
    defaultValue: '0',
    parser: { kind: 'ratio' },
    description: 'share of events sent twice (0..1)',
  }),
  setting({
    key: 'seed',
    env: 'LAKEHOUSE_SEED',
    flag: 'seed',
    defaultValue: '42',
    parser: { kind: 'integer', min: 0, max: 2 ** 32 - 1 },
    description: 'seed of the deterministic event generator',
  }),
  setting({
    key: 'consumerGroup',
    env: 'LAKEHOUSE_CONSUMER_GROUP',
    flag: 'consumer-group',
    defaultValue: 'lakehouse-bronze',
    parser: { kind: 'nonEmpty' },
    description: 'consumer group whose offsets bronze commits',
  }),
  setting({
    key: 'rowGroupSize',
    env: 'LAKEHOUSE_ROW_GROUP_SIZE',
    flag: 'row-group-size',
    defaultValue: '10000',
    parser: { kind: 'integer', min: 1, max: 10_000_000 },
    description: 'rows per Parquet row group (bounds memory)',
  }),
  setting({
    key: 'fileRows',
    env: 'LAKEHOUSE_FILE_ROWS',
    flag: 'file-rows',
    defaultValue: '1000000',
    parser: { kind: 'integer', min: 1, max: 1_000_000_000 },
    description: 'rows per Parquet file before a new one is started',
  }),
  setting({
    key: 'dedupBucketEvents',
    env: 'LAKEHOUSE_DEDUP_BUCKET_EVENTS',
    flag: 'dedup-bucket-events',
    defaultValue: '250000',
    parser: { kind: 'integer', min: 1, max: 100_000_000 },
    description: 'events per silver de-duplication bucket (bounds silver memory)',
  }),
  setting({
    key: 'vehicleTypes',
    env: 'LAKEHOUSE_VEHICLE_TYPES',
    flag: 'vehicle-types',
    defaultValue: producedTypes.join(','),
    parser: { kind: 'nameList' },
    description: 'vehicle types silver accepts (comma-separated lowercase names); others are rejected as unknown_type',
  }),
  setting({
    key: 'kafkaWaitSeconds',
    env: 'LAKEHOUSE_KAFKA_WAIT_SECONDS',
    flag: 'kafka-wait-seconds',
    defaultValue: '300',
    parser: { kind: 'integer', min: 0, max: 86_400 },
    description: 'how long a job waits for Kafka to answer',
  }),
  setting({
    key: 'clientId',
    env: 'LAKEHOUSE_CLIENT_ID',
    flag: 'client-id',
    defaultValue: 'lakehouse',
    parser: { kind: 'nonEmpty' },
    description: 'Kafka client id prefix',
  }),
  setting({
    key: 'startTime',
    env: 'LAKEHOUSE_START_TIME',
    flag: 'start-time',
    defaultValue: 'now',
    parser: { kind: 'instant' },
    description: 'event time of the first produced event: now, epoch ms or ISO 8601; later runs add later events',
  }),
  setting({
    key: 'producerMode',
    env: 'LAKEHOUSE_PRODUCER_MODE',
    flag: 'producer-mode',
    defaultValue: 'once',
    parser: { kind: 'oneOf', values: producerModes },
    description: 'once: produce sends the events and ends; continuous: it streams events until stopped',
  }),
  setting({
    key: 'eventsPerSecond',
    env: 'LAKEHOUSE_EVENTS_PER_SECOND',
    flag: 'events-per-second',
    defaultValue: '50',
    parser: { kind: 'integer', min: 1, max: 100_000 },
    description: 'events per second of the continuous producer',
  }),
  setting({
    key: 'readyFile',
    env: 'LAKEHOUSE_READY_FILE',
    flag: 'ready-file',
    defaultValue: '',
    parser: { kind: 'text' },
    description:
      'the continuous producer creates this file once Kafka acknowledged its first send and removes it when it stops (a readiness probe checks it); empty: none',
  }),
  setting({
    key: 'leaseWaitSeconds',
    env: 'LAKEHOUSE_LEASE_WAIT_SECONDS',
    flag: 'lease-wait-seconds',
    defaultValue: '600',
    parser: { kind: 'integer', min: 0, max: 86_400 },
    description: 'how long a writing stage waits for the lake writer lease before it skips its run (0: skip at once)',
  }),
  setting({
    key: 'metricsPort',
    env: 'LAKEHOUSE_METRICS_PORT',
    flag: 'metrics-port',
    defaultValue: '9464',
    parser: { kind: 'integer', min: 1, max: 65_535 },
    description: 'port the metrics exporter serves /metrics on',
  }),
  setting({
    key: 'explorerPort',
    env: 'LAKEHOUSE_EXPLORER_PORT',
    flag: 'port',
    defaultValue: '8080',
    parser: { kind: 'integer', min: 1, max: 65_535 },
    description: 'port the lake explorer (`explore`) serves its read-only web page on',
  }),
  setting({
    key: 'kafkaSecurity',
    env: 'LAKEHOUSE_KAFKA_SECURITY',
    flag: 'kafka-security',
    defaultValue: 'sasl_ssl',
    parser: { kind: 'oneOf', values: kafkaSecurities },
    description:
      'sasl_ssl: TLS and a SASL user; ssl: TLS only; sasl_plaintext: a SASL user without TLS (credentials cross the network in the clear); plaintext: neither (a trusted dev cluster only)',
  }),
  setting({
    key: 'kafkaSaslMechanism',
    env: 'LAKEHOUSE_KAFKA_SASL_MECHANISM',
    flag: 'kafka-sasl-mechanism',
    defaultValue: 'scram-sha-512',
    parser: { kind: 'oneOf', values: kafkaSaslMechanisms },
    description: 'SASL mechanism of the Kafka user (sasl_ssl, sasl_plaintext)',
  }),
  setting({
    key: 'kafkaCaFile',
    env: 'LAKEHOUSE_KAFKA_CA_FILE',
    flag: 'kafka-ca-file',
    defaultValue: '/etc/lakehouse/kafka-ca/ca.crt',
    parser: { kind: 'nonEmpty' },
    description: `PEM file of the CA that signed the Kafka certificates (sasl_ssl, ssl); ${SYSTEM_CA}: the CAs Node trusts`,
  }),
  setting({
    key: 'kafkaUser',
    env: 'LAKEHOUSE_KAFKA_USER',
    flag: 'kafka-user',
    defaultValue: 'lakehouse-pipeline',
    parser: { kind: 'nonEmpty' },
    description: 'Kafka user the job signs in as (sasl_ssl, sasl_plaintext)',
  }),
  setting({
    key: 'kafkaPasswordFile',
    env: 'LAKEHOUSE_KAFKA_PASSWORD_FILE',
    flag: 'kafka-password-file',
    defaultValue: '/etc/lakehouse/kafka-user/password',
    parser: { kind: 'nonEmpty' },
    description: "file holding the Kafka user's password (sasl_ssl, sasl_plaintext); never logged",
  }),
  setting({
    key: 'kafkaAcls',
    env: 'LAKEHOUSE_KAFKA_ACLS',
    flag: 'kafka-acls',
    defaultValue: 'true',
    parser: { kind: 'boolean' },
    description:
      'the topics job grants the producer and pipeline users their ACLs on the topic and consumer group (sasl_ssl, sasl_plaintext)',
  }),
  setting({
    key: 'kafkaProducerUser',
    env: 'LAKEHOUSE_KAFKA_PRODUCER_USER',
    flag: 'kafka-producer-user',
    defaultValue: 'lakehouse-producer',
    parser: { kind: 'nonEmpty' },
    description: 'Kafka user the topics job lets write the topic',
  }),
  setting({
    key: 'kafkaPipelineUser',
    env: 'LAKEHOUSE_KAFKA_PIPELINE_USER',
    flag: 'kafka-pipeline-user',
    defaultValue: 'lakehouse-pipeline',
    parser: { kind: 'nonEmpty' },
    description: 'Kafka user the topics job lets read the topic and use the consumer group',
  }),
  setting({
    key: 'verifyKafka',
    env: 'LAKEHOUSE_VERIFY_KAFKA',
    flag: 'verify-kafka',
    defaultValue: 'true',
    parser: { kind: 'boolean' },
    description: 'verify also checks bronze against the offsets committed in Kafka',
  }),
  setting({
    key: 'snapshotRetentionHours',
    env: 'LAKEHOUSE_SNAPSHOT_RETENTION_HOURS',
    flag: 'snapshot-retention-hours',
    defaultValue: '168',
    parser: { kind: 'integer', min: 0, max: 876_000 },
    description: 'maintain expires snapshots older than this (never those a downstream table still reads)',
  }),
  setting({
    key: 'keepSnapshots',
    env: 'LAKEHOUSE_KEEP_SNAPSHOTS',
    flag: 'keep-snapshots',
    defaultValue: '20',
    parser: { kind: 'integer', min: 1, max: 1_000_000 },
    description: "maintain keeps at least this many of each table's latest snapshots",
  }),
  setting({
    key: 'orphanAgeHours',
    env: 'LAKEHOUSE_ORPHAN_AGE_HOURS',
    flag: 'orphan-age-hours',
    defaultValue: '24',
    parser: { kind: 'integer', min: 0, max: 876_000 },
    description: 'maintain deletes unreferenced files of a table only once they are this old',
  }),
  setting({
    key: 'catalog',
    env: 'LAKEHOUSE_CATALOG',
    flag: 'catalog',
    defaultValue: 'volume',
    parser: { kind: 'oneOf', values: catalogKinds },
    description:
      'where the tables are: volume (the HadoopCatalog layout under LAKEHOUSE_DATA_DIR) or rest (an Iceberg REST catalog on S3-compatible storage)',
  }),
  setting({
    key: 'catalogUri',
    env: 'LAKEHOUSE_CATALOG_URI',
    flag: 'catalog-uri',
    defaultValue: '',
    parser: { kind: 'httpUrl' },
    description: 'the Iceberg REST catalog, e.g. http://catalog:8181 (LAKEHOUSE_CATALOG=rest)',
  }),
  setting({
    key: 'catalogWarehouse',
    env: 'LAKEHOUSE_CATALOG_WAREHOUSE',
    flag: 'catalog-warehouse',
    defaultValue: '',
    parser: { kind: 'text' },
    description: "the catalog's warehouse, e.g. s3://lakehouse (LAKEHOUSE_CATALOG=rest)",
  }),
  setting({
    key: 'catalogCredential',
    env: 'LAKEHOUSE_CATALOG_CREDENTIAL',
    flag: 'catalog-credential',
    defaultValue: '',
    parser: { kind: 'text' },
    description:
      "OAuth2 client credentials id:secret for the catalog's token endpoint; empty when it needs none (never logged)",
  }),
  setting({
    key: 's3Endpoint',
    env: 'LAKEHOUSE_S3_ENDPOINT',
    flag: 's3-endpoint',
    defaultValue: '',
    parser: { kind: 'httpUrl' },
    description: "S3-compatible storage's endpoint, path-style (empty: AWS's own for AWS_REGION)",
  }),
  setting({
    key: 'awsAccessKeyId',
    env: 'AWS_ACCESS_KEY_ID',
    flag: 'aws-access-key-id',
    defaultValue: '',
    parser: { kind: 'text' },
    description: 'access key of the object storage (LAKEHOUSE_CATALOG=rest)',
  }),
  setting({
    key: 'awsSecretAccessKey',
    env: 'AWS_SECRET_ACCESS_KEY',
    flag: 'aws-secret-access-key',
    defaultValue: '',
    parser: { kind: 'text' },
    description: 'secret key of the object storage (never logged)',
  }),
  setting({
    key: 'awsRegion',
    env: 'AWS_REGION',
    flag: 'aws-region',
    defaultValue: 'us-east-1',
    parser: { kind: 'nonEmpty' },
    description: 'region of the object storage (SigV4 signs for it)',
  }),
  setting({
    key: 'workDir',
    env: 'LAKEHOUSE_WORK_DIR',
    flag: 'work-dir',
    defaultValue: '',
    parser: { kind: 'text' },
    description:
      "local scratch space (silver's spill files, uploads being staged); empty: under the volume lake, or the system's temporary directory",
  }),
  setting({
    key: 'migrateFrom',
    env: 'LAKEHOUSE_MIGRATE_FROM',
    flag: 'migrate-from',
    defaultValue: '',
    parser: { kind: 'text' },
    description:
      'migrate: the volume lake (its root directory) whose tables are copied into the lake the settings name',
  }),
] as const;

export type LogFormat = 'json' | 'text';
export const LOG_FORMAT_FLAG = 'log-format';

/** `--log-format text|json`; without it, text for a person at a terminal, JSON for pods, CI and pipes. */
export function logFormat(flags: ReadonlyMap<string, string>, isTerminal: boolean): LogFormat {
  const raw = flags.get(LOG_FORMAT_FLAG);
  if (raw === undefined) return isTerminal ? 'text' : 'json';
  if (raw !== 'json' && raw !== 'text') throw new ConfigError(`--${LOG_FORMAT_FLAG}`, `"${raw}" is not text or json`);
  return raw;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: ReadonlyMap<string, string>;
}

/** `--name value`, `--name=value`; a flag with no value is `true`. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags.set(arg.slice(2), argv[++i]);
    } else {
      flags.set(arg.slice(2), 'true');
    }
  }
  return { positional, flags };
}

export function loadConfig(
  flags: ReadonlyMap<string, string> = new Map(),
  env: NodeJS.ProcessEnv = process.env,
  extraFlags: readonly string[] = [],
): Config {
  const known = new Set<string>([...settings.map((s) => s.flag), LOG_FORMAT_FLAG, ...extraFlags]);
  for (const flag of flags.keys()) {
    if (!known.has(flag)) throw new ConfigError(`--${flag}`, 'unknown flag (see --help)');
  }
  const config: Record<string, unknown> = {};
  for (const s of settings) {
    const fromFlag = flags.get(s.flag);
    const fromEnv = env[s.env];
    // An empty variable means "unset", except for a path or name: a typo there must not quietly become the default.
    if (fromFlag === undefined && fromEnv !== undefined && fromEnv.trim() === '' && s.parser.kind === 'nonEmpty') {
      throw new ConfigError(s.env, `is set but empty (unset it for the default ${s.defaultValue})`);
    }
    const raw = fromFlag ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : s.defaultValue);
    const name = fromFlag !== undefined ? `--${s.flag}` : s.env;
    try {
      config[s.key] = parserOf(s.parser)(raw);
    } catch (error) {
      if (error instanceof ParseError) throw new ConfigError(name, error.message);
      throw error;
    }
  }
  checkCatalog(config as unknown as Config);
  return config as unknown as Config;
}

/** A REST catalog needs its URI, its warehouse and the storage's keys: a half-configured one is refused, naming what is missing. */
function checkCatalog(config: Config): void {
  if (config.catalog !== 'rest') return;
  const needed: [string, string][] = [
    ['LAKEHOUSE_CATALOG_URI', config.catalogUri],
    ['LAKEHOUSE_CATALOG_WAREHOUSE', config.catalogWarehouse],
    ['AWS_ACCESS_KEY_ID', config.awsAccessKeyId],
    ['AWS_SECRET_ACCESS_KEY', config.awsSecretAccessKey],
  ];
  for (const [name, value] of needed)
    if (value === '') throw new ConfigError(name, 'must be set when LAKEHOUSE_CATALOG=rest');
  if (!/^s3a?:\/\/[^/]+/.test(config.catalogWarehouse))
    throw new ConfigError('LAKEHOUSE_CATALOG_WAREHOUSE', `"${config.catalogWarehouse}" is not an s3://bucket location`);
}

export function usage(): string {
  const rows = settings.map(
    (s) => `  --${s.flag.padEnd(20)} ${s.env.padEnd(30)} ${s.description} (default ${s.defaultValue})`,
  );
  return [
    'usage: lakehouse <topics|produce|bronze|silver|gold|verify|maintain|migrate|rollback|replay> [--flag value ...]',
    '       lakehouse metrics                  (serves Prometheus metrics until stopped)',
    '       lakehouse forget --vehicle ID [--vehicle ID ...]   (erases vehicles: docs/curation.md)',
    '       lakehouse explore [--port N]       (serves the read-only lake explorer page until stopped)',
    '       lakehouse status [--json] | tables | snapshots <table> | show <table> [--snapshot ID | --as-of TIME] [--limit N] | contract',
    '',
    'settings (flag, environment variable, meaning):',
    ...rows,
    '',
    `  --${LOG_FORMAT_FLAG.padEnd(20)} ${''.padEnd(30)} text or json (default text on a terminal, json otherwise)`,
  ].join('\n');
}
