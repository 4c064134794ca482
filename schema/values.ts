// The one definition of the chart's values. values.yaml, values.schema.json, the README table and
// the Values type are all derived from it (see schema/index.ts).
import { LOWERCASE_NAME_PATTERN } from '../jobs/setting-kinds.ts';
import { producedTypes } from '../jobs/events/vehicle-event.ts';
import {
  boolean,
  integer,
  list,
  number,
  object,
  passThrough,
  quantity,
  string,
  stringMap,
  type Infer,
  type ValueRule,
} from './define.ts';
import { objectStoreFields } from './objectstore-values.ts';
import {
  CPU_PATTERN,
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  image,
  KAFKA_TOPIC_PATTERN,
  resources,
  scheduling,
  SECRET_KEY_PATTERN,
} from './parts.ts';

export { DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, KAFKA_TOPIC_PATTERN } from './parts.ts';

/**
 * A CronJob schedule as Kubernetes accepts it: empty (no CronJob), a macro, or five fields
 * (minute hour day-of-month month day-of-week) separated by spaces. Kubernetes checks each field's range.
 */
export const CRON_PATTERN =
  '^$|^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$|^[0-9A-Za-z*/,?-]+( +[0-9A-Za-z*/,?-]+){4}$';
const cron = (description: string) =>
  string('', description, { pattern: CRON_PATTERN, patternName: 'empty, @hourly-style or five cron fields' });

const envVar = object(
  'An environment variable.',
  {
    name: string('', 'Variable name.', {
      pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$',
      patternName: 'an environment variable name',
    }),
    value: string('', 'Literal value.'),
    valueFrom: passThrough({}, 'Kubernetes EnvVarSource (secretKeyRef, configMapKeyRef, fieldRef...).'),
  },
  { required: ['name'] },
);

const extraEnv = (what: string) => list(envVar, [], `Extra environment variables for ${what}.`);

const kafkaUser = (name: string, what: string) =>
  object(`Kafka user of ${what}.`, {
    name: string(name, `User name of ${what}.`, {
      pattern: '^[A-Za-z0-9._@-]{1,128}$',
      patternName: 'a user name of letters, digits and ._@-',
    }),
    existingSecret: string(
      '',
      `Secret holding the password of ${what} under the key \`password\`; empty: \`kafka.auth.existingSecret\`, else a password the chart generates once.`,
      {
        pattern: DNS_SUBDOMAIN_PATTERN,
        patternName: 'a Secret name',
      },
    ),
  });

const REST_EXISTING = ['uri', 'warehouse', 's3Endpoint', 'existingSecret', 'credentialSecret'] as const;

/** The lake's backend, whole or not at all: each half-configured combination is refused naming a field. */
const lakeRules: readonly ValueRule[] = [
  {
    when: { 'lake.catalog': 'rest', 'objectStore.enabled': false },
    expect: { 'lake.rest.uri': 'set', 'lake.rest.warehouse': 'set', 'lake.rest.existingSecret': 'set' },
  },
  {
    when: { 'objectStore.enabled': true },
    expect: {
      'lake.catalog': { equals: 'rest' },
      ...Object.fromEntries(REST_EXISTING.map((field) => [`lake.rest.${field}`, 'unset' as const])),
    },
  },
  {
    when: { 'lake.catalog': 'volume' },
    expect: Object.fromEntries(REST_EXISTING.map((field) => [`lake.rest.${field}`, 'unset' as const])),
  },
  { when: { 'lake.catalog': 'rest' }, expect: { 'persistence.existingClaim': 'unset' } },
];

export const valuesModel = object(
  'Values of the lakehouse chart.',
  {
    nameOverride: string('', 'Replaces the chart name in object names.', {
      pattern: DNS_LABEL_PATTERN,
      patternName: 'a DNS label',
      maxLength: 40,
    }),
    fullnameOverride: string('', 'Replaces the whole `<release>-<chart>` prefix of object names.', {
      pattern: DNS_LABEL_PATTERN,
      patternName: 'a DNS label',
      maxLength: 40,
    }),
    ...scheduling(),

    kafka: object(
      'The Kafka cluster (KRaft) that carries the vehicle events.',
      {
        enabled: boolean(
          true,
          'Deploy Kafka with the chart; false uses the existing Kafka in `kafka.bootstrapServers`.',
        ),
        bootstrapServers: string(
          '',
          'Comma-separated `host:port` list of an existing Kafka; required when `kafka.enabled` is false.',
          {
            pattern: '^$|^[^,\\s]+:[0-9]{1,5}(,[^,\\s]+:[0-9]{1,5})*$',
            patternName: 'a comma-separated host:port list',
          },
        ),
        replicas: integer(1, 'Kafka nodes, each broker and controller; use 3 for a fault-tolerant quorum.', {
          minimum: 1,
          maximum: 9,
        }),
        image: image('apache/kafka', '4.1.1', 'Kafka'),
        heapOpts: string(
          '-Xms256m -Xmx512m',
          'JVM heap options (KAFKA_HEAP_OPTS); keep the maximum below the memory limit.',
          {
            minLength: 1,
          },
        ),
        storage: object("Each Kafka node's data volume (volumeClaimTemplate).", {
          size: quantity('8Gi', "Size of each Kafka node's data volume."),
          storageClass: string(
            '',
            'Storage class of the Kafka volumes; "" uses the cluster default, "-" disables dynamic provisioning.',
          ),
        }),
        resources: resources('each Kafka node', undefined, undefined, ['256Mi', '2Gi']),
        podAntiAffinity: string(
          'soft',
          "Keeping Kafka nodes on different Kubernetes nodes: `soft` prefers it, `hard` requires it (a node's loss then takes at most one replica), `none` leaves it to the scheduler.",
          {
            enum: ['soft', 'hard', 'none'],
          },
        ),
        zoneSpread: boolean(
          true,
          "Spread Kafka nodes evenly across zones where the cluster's nodes carry `topology.kubernetes.io/zone` labels (a preference: never blocks scheduling).",
        ),
        affinity: passThrough(
          {},
          'Affinity of the Kafka pods; when set it replaces the global `affinity` and `kafka.podAntiAffinity`.',
        ),
        extraEnv: extraEnv('Kafka (KAFKA_* variables become broker properties)'),
        tls: object(
          'TLS on every Kafka listener (client, inter-broker, controller). Certificates come from `existingSecret`, else a cert-manager Certificate when `certManager.issuerRef.name` is set, else a CA and node certificate the chart generates once and keeps across upgrades.',
          {
            enabled: boolean(
              true,
              "Serve and reach Kafka over TLS only; false (a trusted dev cluster) serves PLAINTEXT and needs `kafka.auth.enabled: false` for the chart's Kafka.",
            ),
            existingSecret: string(
              '',
              "Secret holding the Kafka nodes' certificate (`ca.crt`, `tls.crt`, `tls.key`; the key RSA in PKCS#1 or PKCS#8 PEM). Its certificate must name the client Service, the headless Service and each pod's headless name, and allow client as well as server authentication (the controller listener is mutual TLS).",
              {
                pattern: DNS_SUBDOMAIN_PATTERN,
                patternName: 'a Secret name',
              },
            ),
            certManager: object(
              'A cert-manager Certificate for the Kafka nodes, rendered only when `issuerRef.name` is set (and no `existingSecret`).',
              {
                issuerRef: object(
                  "The cert-manager issuer that signs the nodes' certificate; its CA must be in the issued Secret's `ca.crt` (a CA issuer does this).",
                  {
                    name: string('', 'Issuer name; empty: no Certificate is rendered.', {
                      pattern: DNS_SUBDOMAIN_PATTERN,
                      patternName: 'an issuer name',
                    }),
                    kind: string('Issuer', 'Issuer or ClusterIssuer.', { enum: ['Issuer', 'ClusterIssuer'] }),
                    group: string('cert-manager.io', 'API group of the issuer.', { minLength: 1 }),
                  },
                ),
                duration: string('2160h', 'Lifetime of the issued certificate.', {
                  pattern: '^[0-9]+h$',
                  patternName: 'hours like 2160h',
                }),
              },
            ),
            nodePrincipal: string(
              '',
              "Subject of the nodes' certificate as Kafka names it (e.g. `CN=kafka,O=example`), made a super user for the controller's mutual TLS; empty: `CN=<fullname>-kafka`, the subject of the generated and cert-manager certificates.",
              {
                maxLength: 1000,
              },
            ),
            caSecret: string(
              '',
              "Secret whose `ca.crt` the clients trust: with the chart's Kafka and `existingSecret` or cert-manager, a Secret holding only the CA (else the clients mount the nodes' Secret, whose key they never read); with an existing Kafka (`kafka.enabled: false`), its CA; empty there trusts the public CAs.",
              {
                pattern: DNS_SUBDOMAIN_PATTERN,
                patternName: 'a Secret name',
              },
            ),
          },
        ),
        auth: object(
          'SCRAM users with least privilege: an admin for the topics job (and the brokers among themselves), a producer that may only write the topic and a pipeline user that may only read it and use its consumer group (ACLs granted by the topics job; StandardAuthorizer, no access without an ACL). Passwords are generated once into Secrets kept across upgrades, or taken from existing Secrets, and mounted as files.',
          {
            enabled: boolean(
              true,
              'Clients sign in with SASL users; false (a trusted dev cluster) lets any client that reaches Kafka in.',
            ),
            mechanism: string(
              'scram-sha-512',
              "SASL mechanism; the chart's Kafka takes `scram-sha-512` or `scram-sha-256`, `plain` is for an existing Kafka only.",
              {
                enum: ['scram-sha-512', 'scram-sha-256', 'plain'],
              },
            ),
            existingSecret: string(
              '',
              "One Secret holding every user's password under the keys `admin`, `producer` and `pipeline` (a user's own `existingSecret` takes precedence); required with an existing Kafka. Passwords must not contain `\"`, `\\`, `,` or `]`.",
              {
                pattern: DNS_SUBDOMAIN_PATTERN,
                patternName: 'a Secret name',
              },
            ),
            users: object("The three users; each job mounts only its own user's password.", {
              admin: kafkaUser('lakehouse-admin', 'the admin (the topics job, ACLs; a super user)'),
              producer: kafkaUser('lakehouse-producer', 'the producer (writes the topic)'),
              pipeline: kafkaUser(
                'lakehouse-pipeline',
                'the pipeline (bronze, silver, gold, verify, metrics: read the topic and use the consumer group)',
              ),
            }),
            acls: boolean(
              true,
              "The topics job grants the producer and pipeline users their ACLs (turn off when an existing Kafka's ACLs are managed elsewhere).",
            ),
            allowPlaintext: boolean(
              false,
              'With an existing Kafka and `kafka.tls.enabled: false`: send SASL credentials over its PLAINTEXT listener (SASL_PLAINTEXT). Without this opt-in the chart refuses that combination.',
            ),
          },
        ),
      },
      { requireWhen: { field: 'enabled', equals: false, require: ['bootstrapServers'] } },
    ),

    topic: object('The topic the producer writes and bronze reads.', {
      name: string('vehicles-events', 'Kafka topic name.', {
        pattern: KAFKA_TOPIC_PATTERN,
        patternName: 'a Kafka topic name',
      }),
      partitions: integer(3, 'Partitions created by the topics job.', { minimum: 1, maximum: 1000 }),
      replicationFactor: integer(1, 'Replication factor of the topic; at most the number of Kafka nodes.', {
        minimum: 1,
        maximum: 9,
      }),
      minInsyncReplicas: integer(
        1,
        "Replicas that must have a record before Kafka acknowledges it to the producer (acks=all): the topic's `min.insync.replicas` and the brokers' default. Use 2 with replication 3, so an acknowledged record survives the loss of a node; at most `topic.replicationFactor`.",
        {
          minimum: 1,
          maximum: 9,
        },
      ),
    }),

    producer: object(
      'The producer of synthetic GPS events: a hook Job on each install and upgrade, or a Deployment that streams them.',
      {
        mode: string(
          'once',
          '`once`: a hook Job sends `producer.events` events on each install and upgrade; `continuous`: a Deployment streams `producer.eventsPerSecond` events per second from a simulated fleet until it is stopped.',
          {
            enum: ['once', 'continuous'],
          },
        ),
        events: integer(30, 'Events sent on each install or upgrade (mode `once`).', {
          minimum: 0,
          maximum: 100_000_000,
        }),
        eventsPerSecond: integer(50, 'Events per second of the continuous producer (mode `continuous`).', {
          minimum: 1,
          maximum: 100_000,
        }),
        resources: passThrough(
          {},
          "CPU, memory and ephemeral storage of the continuous producer's pod (Kubernetes ResourceRequirements); empty uses `jobs.resources`.",
        ),
        invalidRatio: number(0.05, 'Share of deliberately invalid events (0..1), to exercise the quarantine.', {
          minimum: 0,
          maximum: 1,
        }),
        seed: integer(42, 'Seed of the deterministic event generator.', { minimum: 0, maximum: 2_147_483_647 }),
        duplicateRatio: number(0, 'Share of events sent twice (0..1), to exercise de-duplication.', {
          minimum: 0,
          maximum: 1,
        }),
        startTime: string(
          'now',
          'Event time of the first event of each run: `now` (so every install and upgrade adds new events), epoch milliseconds, or an ISO 8601 time with a zone.',
          {
            pattern:
              '^(now|[0-9]{1,16}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2}))$',
            patternName: 'now, epoch milliseconds or an ISO 8601 time with a zone',
          },
        ),
      },
    ),

    pipeline: object('Settings of the bronze, silver and gold stages.', {
      consumerGroup: string('lakehouse-bronze', 'Consumer group whose offsets bronze commits.', {
        pattern: '^[a-zA-Z0-9._-]{1,249}$',
        patternName: 'a consumer group name',
      }),
      rowGroupSize: integer(10_000, "Rows per Parquet row group (bounds each job's memory).", {
        minimum: 1,
        maximum: 10_000_000,
      }),
      fileRows: integer(1_000_000, 'Rows per Parquet file before the next one starts.', {
        minimum: 1,
        maximum: 1_000_000_000,
      }),
      dedupBucketEvents: integer(250_000, "Events per silver de-duplication bucket (bounds silver's memory).", {
        minimum: 1,
        maximum: 100_000_000,
      }),
      vehicleTypes: list(
        string('', 'A vehicle type.', { pattern: LOWERCASE_NAME_PATTERN, patternName: 'a lowercase name' }),
        producedTypes,
        'The vehicle types silver accepts (distinct lowercase names); an event of another type is rejected as `unknown_type`. Verify holds every silver row to this list, so a type taken out of it fails `helm test` while silver still holds rows of it. The producer sends car, bike and scooter whatever this says.',
        { minItems: 1, uniqueItems: true },
      ),
      leaseWaitSeconds: integer(
        600,
        "How long a writing stage (bronze, silver, gold, maintain) waits for the lake's writer lease held by an overlapping run before it skips its run (exit 0, outcome `skipped`); 0 skips at once.",
        {
          minimum: 0,
          maximum: 86_400,
        },
      ),
    }),

    maintenance: object(
      'Table maintenance (`lakehouse.mjs maintain`): compaction of small files, snapshot expiry, orphan file removal.',
      {
        snapshotRetentionHours: integer(
          168,
          'Snapshots older than this are expired, except the latest `keepSnapshots` and those a downstream table has not read yet.',
          {
            minimum: 0,
            maximum: 876_000,
          },
        ),
        keepSnapshots: integer(20, 'Snapshots of each table always kept, however old.', {
          minimum: 1,
          maximum: 1_000_000,
        }),
        orphanAgeHours: integer(
          24,
          "Files no snapshot references are deleted only once they are this old, so a running job's uncommitted files are never touched.",
          {
            minimum: 0,
            maximum: 876_000,
          },
        ),
      },
    ),

    jobs: object('The pod settings shared by every pipeline Job and the test Pod.', {
      image: image('node', '22-bookworm-slim', 'the jobs (stock Node 22, or a prebuilt image from jobs/Dockerfile)'),
      bundledScript: boolean(
        true,
        'Mount the bundled lakehouse.mjs from a ConfigMap; set false when `jobs.image` already holds /opt/lakehouse/lakehouse.mjs.',
      ),
      resources: resources('each job'),
      backoffLimit: integer(2, 'Retries of a failed Job before the hook fails.', { minimum: 0, maximum: 20 }),
      activeDeadlineSeconds: integer(900, 'Time a Job may run, retries included, before it is stopped.', {
        minimum: 30,
        maximum: 86_400,
      }),
      kafkaWaitSeconds: integer(300, 'How long each job waits for Kafka to answer.', { minimum: 0, maximum: 3600 }),
      clientId: string('lakehouse', 'Prefix of the Kafka client ids of the jobs.', { minLength: 1 }),
      verifyKafka: boolean(
        true,
        "`helm test` (verify) also checks that bronze ends where the consumer group's committed offsets are.",
      ),
      nodeOptions: string(
        '--max-old-space-size=192 --max-semi-space-size=8',
        "NODE_OPTIONS of the jobs; the heap ceiling keeps each job's memory flat whatever the number of events, and 8 MiB semi-spaces (V8 takes 16) save bronze and silver 20-25 MiB of peak RSS at 10^7 events for at most a few percent of throughput (measured by `npm run bench`). Bronze's and silver's Parquet worker thread has its own ceiling (24 MiB per 10 000 rows of `pipeline.rowGroupSize`, plus 16 MiB of young generation) beside it; the jobs also run with MALLOC_ARENA_MAX=2. Keep it well below `jobs.resources.limits.memory`.",
      ),
      extraEnv: extraEnv('every job'),
    }),

    engine: string(
      'node',
      'Engine of the bronze, silver and gold stages: `node` (the bundled jobs, one pod each) or `spark` (spark-submit in Kubernetes cluster mode; see `spark`).',
      {
        enum: ['node', 'spark'],
      },
    ),

    spark: object(
      "The Spark engine, used when `engine` is `spark`: each stage's hook Job runs spark-submit, which starts a driver pod that starts the executors.",
      {
        image: image(
          'apache/spark',
          '4.1.1',
          'Spark (the official image with Python; the hook Job, the driver and the executors)',
        ),
        kafkaPackage: string(
          'org.apache.spark:spark-sql-kafka-0-10_2.13:4.1.1',
          "Maven coordinates of Spark's Kafka connector, resolved by spark-submit `--packages`; match the image's Spark and Scala versions. Empty when the image already holds it in its jars (no `--packages` with both empty: nothing is fetched at run time).",
        ),
        icebergPackage: string(
          'org.apache.iceberg:iceberg-spark-runtime-4.1_2.13:1.12.0',
          "Maven coordinates of Iceberg's Spark runtime (the lake's tables), resolved by spark-submit `--packages`; match the image's Spark and Scala versions. Empty when the image already holds it in its jars.",
        ),
        icebergAwsPackage: string(
          'org.apache.iceberg:iceberg-aws-bundle:1.12.0',
          "Maven coordinates of Iceberg's AWS bundle (S3FileIO, for `lake.catalog: rest`), resolved by spark-submit `--packages` with that backend only; match `spark.icebergPackage`'s Iceberg version. Empty when the image already holds it in its jars.",
        ),
        driver: object('The driver pod of each stage.', {
          cores: integer(1, 'CPU cores of the driver.', { minimum: 1, maximum: 64 }),
          memory: string('1g', 'Heap of the driver (spark.driver.memory, e.g. 1g, 2048m).', {
            pattern: '^[0-9]+[kmgt]$',
            patternName: 'a JVM memory size like 1g',
          }),
          requestCores: string(
            '',
            'CPU request of the driver pod (spark.kubernetes.driver.request.cores, e.g. 250m); empty requests `cores`.',
            { pattern: CPU_PATTERN, patternName: 'a CPU quantity like 250m or 1' },
          ),
        }),
        executor: object('The executor pods of each stage.', {
          instances: integer(2, 'Executors per stage.', { minimum: 1, maximum: 1000 }),
          cores: integer(1, 'CPU cores of each executor.', { minimum: 1, maximum: 64 }),
          memory: string('1g', 'Heap of each executor (spark.executor.memory, e.g. 1g, 2048m).', {
            pattern: '^[0-9]+[kmgt]$',
            patternName: 'a JVM memory size like 1g',
          }),
          requestCores: string(
            '',
            'CPU request of each executor pod (spark.kubernetes.executor.request.cores, e.g. 250m); empty requests `cores`.',
            { pattern: CPU_PATTERN, patternName: 'a CPU quantity like 250m or 1' },
          ),
        }),
        shufflePartitions: integer(
          8,
          "Shuffle partitions of silver's de-duplication and sort (adaptive execution merges small ones).",
          { minimum: 1, maximum: 100_000 },
        ),
      },
    ),

    lake: object(
      "Where the lake's tables are: Iceberg's HadoopCatalog layout on the lake volume (`persistence`), or an Iceberg REST catalog with data and metadata on S3-compatible storage.",
      {
        catalog: string(
          'volume',
          '`volume`: the tables on the lake volume (`persistence`); `rest`: in an Iceberg REST catalog on S3-compatible storage, either the embedded one (`objectStore.enabled: true`) or an existing one (`lake.rest`). With `rest` no pod mounts a lake volume and none is created.',
          { enum: ['volume', 'rest'] },
        ),
        rest: object(
          'An existing Iceberg REST catalog and its storage, for `lake.catalog: rest` without the embedded store: `uri`, `warehouse` and `existingSecret` are then required; with the embedded store they must stay empty.',
          {
            uri: string('', "The catalog's base URI (LAKEHOUSE_CATALOG_URI), e.g. `https://catalog.example.com`.", {
              pattern: '^$|^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
              patternName: 'an http(s) URL',
            }),
            warehouse: string('', "The catalog's warehouse (LAKEHOUSE_CATALOG_WAREHOUSE), `s3://bucket[/path]`.", {
              pattern: '^$|^s3a?://[^/\\s]+(/\\S*)?$',
              patternName: 's3://bucket[/path]',
            }),
            s3Endpoint: string(
              '',
              "The storage's endpoint, addressed path-style (LAKEHOUSE_S3_ENDPOINT), e.g. `https://s3.example.com:9000`; empty: AWS S3 in `lake.rest.region`.",
              { pattern: '^$|^https?://[^\\s/?#]+/?$', patternName: 'an http(s) URL without a path' },
            ),
            region: string('us-east-1', 'The region SigV4 signs for (AWS_REGION), the embedded store included.', {
              pattern: '^[a-z0-9-]{1,64}$',
              patternName: 'a region like us-east-1',
            }),
            existingSecret: string(
              '',
              "Secret holding the storage's access key and secret key (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), under `accessKeyIdKey` and `secretAccessKeyKey`; they reach the pods as secretKeyRef only.",
              { pattern: DNS_SUBDOMAIN_PATTERN, patternName: 'a Secret name' },
            ),
            accessKeyIdKey: string('access-key-id', 'Key of the access key in `existingSecret`.', {
              pattern: SECRET_KEY_PATTERN,
              patternName: 'a Secret key',
            }),
            secretAccessKeyKey: string('secret-access-key', 'Key of the secret key in `existingSecret`.', {
              pattern: SECRET_KEY_PATTERN,
              patternName: 'a Secret key',
            }),
            credentialSecret: string(
              '',
              "Secret holding the catalog's OAuth2 client credentials `id:secret` (LAKEHOUSE_CATALOG_CREDENTIAL, exchanged at `<uri>/v1/oauth/tokens`) under `credentialKey`; empty: the catalog needs none.",
              { pattern: DNS_SUBDOMAIN_PATTERN, patternName: 'a Secret name' },
            ),
            credentialKey: string('credential', 'Key of the credentials in `credentialSecret`.', {
              pattern: SECRET_KEY_PATTERN,
              patternName: 'a Secret key',
            }),
          },
        ),
        workDirSize: quantity(
          '1Gi',
          "With `lake.catalog: rest`: size limit of the /tmp emptyDir of every pod that runs the jobs, their work directory (LAKEHOUSE_WORK_DIR: silver's spill files, files staged before upload). It counts toward the pod's ephemeral storage: keep `jobs.resources.limits.ephemeral-storage` at least as large.",
        ),
      },
    ),

    persistence: object('The lake volume holding bronze, silver and gold (kept on uninstall).', {
      size: quantity('10Gi', 'Size of the lake volume.'),
      storageClass: string(
        '',
        'Storage class of the lake volume; "" uses the cluster default, "-" disables dynamic provisioning.',
      ),
      existingClaim: string('', 'Use this existing PersistentVolumeClaim instead of creating one.', {
        pattern: DNS_SUBDOMAIN_PATTERN,
        patternName: 'a PersistentVolumeClaim name',
      }),
      accessModes: list(
        string('ReadWriteOnce', 'An access mode.', {
          enum: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'],
        }),
        ['ReadWriteOnce'],
        'Access modes of the lake volume.',
        { minItems: 1, uniqueItems: true },
      ),
    }),

    schedule: object(
      'The pipeline and table maintenance as CronJobs, so the lake keeps up without anyone running `helm upgrade`; the install and upgrade hooks run as well.',
      {
        pipeline: cron(
          'Cron schedule of bronze -> silver -> gold in one pod, each stage only after the one before succeeded (e.g. `*/5 * * * *`); empty runs them only as install and upgrade hooks.',
        ),
        maintenance: cron(
          'Cron schedule of table maintenance (`maintain`: compaction, snapshot expiry, removal of unreferenced files); empty runs none.',
        ),
        timeZone: string(
          '',
          "Time zone of the schedules (an IANA name such as `Europe/Paris`); empty is the controller's, normally UTC.",
          {
            pattern: '^$|^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$',
            patternName: 'an IANA time zone name',
          },
        ),
        suspend: boolean(false, 'Suspend both CronJobs (runs already started finish).'),
        startingDeadlineSeconds: integer(
          120,
          'A run that could not start within this many seconds of its time is skipped (counted as missed).',
          {
            minimum: 10,
            maximum: 86_400,
          },
        ),
        activeDeadlineSeconds: integer(
          900,
          'Time a scheduled run may take, retries included, before it is stopped; the next runs wait for it (concurrencyPolicy Forbid).',
          {
            minimum: 30,
            maximum: 86_400,
          },
        ),
        backoffLimit: integer(
          0,
          'Retries of a failed scheduled run within the same Job; 0 leaves it to the next scheduled run.',
          { minimum: 0, maximum: 10 },
        ),
        successfulJobsHistoryLimit: integer(3, 'Finished successful runs kept (their pods and logs).', {
          minimum: 0,
          maximum: 100,
        }),
        failedJobsHistoryLimit: integer(3, 'Failed runs kept (their pods and logs).', { minimum: 0, maximum: 100 }),
      },
    ),

    metrics: object(
      "A Prometheus exporter of the lake's freshness: Kafka lag per partition, time since each stage's last success, rows and files per table, runs by outcome.",
      {
        enabled: boolean(
          false,
          'Deploy the exporter (a Deployment running `lakehouse.mjs metrics` on the jobs image, with a Service).',
        ),
        port: integer(9464, "Port of the exporter's /metrics and /healthz.", { minimum: 1024, maximum: 65_535 }),
        resources: resources('the metrics exporter', ['50m', '250m'], ['128Mi', '384Mi'], ['64Mi', '512Mi']),
        serviceMonitor: object(
          'A prometheus-operator ServiceMonitor for the exporter, rendered only when the cluster serves monitoring.coreos.com/v1.',
          {
            enabled: boolean(true, 'Render the ServiceMonitor (with `metrics.enabled` and the API present).'),
            interval: string('30s', 'Scrape interval.', {
              pattern: '^[0-9]+(ms|s|m|h)$',
              patternName: 'a duration like 30s',
            }),
            labels: stringMap(
              {},
              "Extra labels, e.g. the one your Prometheus' serviceMonitorSelector matches (`release: kube-prometheus-stack`).",
            ),
          },
        ),
        prometheusRule: object(
          "A prometheus-operator PrometheusRule with the lake's alerts, rendered only when the cluster serves monitoring.coreos.com/v1.",
          {
            enabled: boolean(true, 'Render the PrometheusRule (with `metrics.enabled` and the API present).'),
            staleAfterSeconds: integer(
              0,
              'LakehousePipelineStale fires when the last success of bronze, silver or gold is older than this; 0 derives twice the longest gap of `schedule.pipeline` (`*/N` minutes or hours, hourly, daily, weekly, monthly shapes; others must set it). Without a schedule and with 0 the alert is left out.',
              {
                minimum: 0,
                maximum: 31_536_000,
              },
            ),
            failuresThreshold: integer(
              3,
              'LakehouseStageFailing fires when a stage has failed this many runs in a row.',
              { minimum: 1, maximum: 1000 },
            ),
            labels: stringMap({}, "Extra labels, e.g. the one your Prometheus' ruleSelector matches."),
          },
        ),
        networkPolicy: object(
          "Who may reach the exporter's port when `networkPolicy.enabled`: this release's pods, and the pods below.",
          {
            namespaceSelector: stringMap(
              { 'kubernetes.io/metadata.name': 'monitoring' },
              'Labels of the namespaces whose pods may scrape; empty admits no other namespace.',
            ),
            podSelector: stringMap(
              {},
              'Labels of the pods in those namespaces that may scrape; empty admits every pod there.',
            ),
          },
        ),
      },
    ),

    explorer: object(
      'A read-only web page of the lake (`lakehouse.mjs explore`): tables and their snapshot history with time travel, gold per vehicle type, the quarantine by reason code, freshness, and the last known position of each vehicle on a map of Paris. Open it with `kubectl port-forward` (NOTES.txt says how) or an Ingress.',
      {
        enabled: boolean(
          false,
          'Deploy the explorer (a Deployment running `lakehouse.mjs explore` on the jobs image, the lake mounted read-only, with a Service).',
        ),
        port: integer(8080, "Port of the explorer's page and /healthz.", { minimum: 1024, maximum: 65_535 }),
        resources: resources('the explorer', ['50m', '500m'], ['128Mi', '512Mi'], ['64Mi', '512Mi']),
        networkPolicy: object(
          "Who may reach the explorer's port when `networkPolicy.enabled`: this release's pods, and the pods below (e.g. your ingress controller's).",
          {
            namespaceSelector: stringMap(
              {},
              'Labels of the namespaces whose pods may open the page; empty admits no other namespace.',
            ),
            podSelector: stringMap(
              {},
              'Labels of the pods in those namespaces that may open it; empty admits every pod there.',
            ),
          },
        ),
        ingress: object(
          "An optional Ingress in front of the explorer's Service. The page has no login: put it behind one.",
          {
            enabled: boolean(false, 'Render the Ingress.'),
            className: string('', 'ingressClassName; empty: the cluster default.'),
            host: string('', 'Host name the Ingress answers for; empty: any.'),
            annotations: stringMap({}, "Annotations, e.g. your ingress controller's authentication."),
            tlsSecretName: string('', 'A TLS Secret for `host` (with a host set); empty: no TLS section.'),
          },
        ),
      },
    ),

    objectStore: object(
      'The embedded object store and Iceberg REST catalog for `lake.catalog: rest`: SeaweedFS, the dependency chart `charts/objectstore` (a StatefulSet with its own volume, S3 and catalog Services, generated access keys kept across upgrades, a hook Job creating the table bucket).',
      {
        enabled: boolean(
          false,
          'Deploy the embedded store (the dependency condition); needs `lake.catalog: rest` and an empty `lake.rest`.',
        ),
        ...objectStoreFields,
      },
    ),

    networkPolicy: object("Network isolation of Kafka, of the metrics exporter and of the jobs' pods.", {
      enabled: boolean(
        true,
        "Admit only this release's pods to Kafka, to the exporter also the pods of `metrics.networkPolicy`, and no connection to the jobs' pods.",
      ),
      egress: boolean(
        false,
        "Also limit what the jobs' pods (hook Jobs, scheduled runs, producer, test Pod) and the exporter may open: DNS and Kafka's client port, with `lake.catalog: rest` the object store (the embedded store's pods, or the ports of `lake.rest.uri` and `lake.rest.s3Endpoint`), and with `engine: spark` HTTPS (port 443 and 6443: the Kubernetes API and Maven Central, which spark-submit needs). Off by default: it needs a CNI that enforces egress and DNS on port 53.",
      ),
    }),
  },
  { rules: lakeRules },
);

export type Values = Infer<typeof valuesModel>;
