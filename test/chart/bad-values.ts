// Values a user could get wrong, each with the field its error message must name.
export interface BadValues {
  readonly name: string;
  readonly values: Record<string, unknown>;
  /** Matches the field in Helm's message ('/a/b' from the schema, 'a.b' from the chart's own checks). */
  readonly field: RegExp;
  /** Rejected by the chart's templates (a rule across values, or on what the cluster serves), not by the schema. */
  readonly chartRule?: boolean;
  /** API versions the cluster is to serve (`helm template --api-versions`). */
  readonly apiVersions?: readonly string[];
}

export const badValues: readonly BadValues[] = [
  { name: 'an unknown top-level key', values: { kafak: { enabled: true } }, field: /kafak/ },
  { name: 'an unknown nested key', values: { kafka: { replica: 3 } }, field: /replica\b/ },
  { name: 'a string for an integer', values: { producer: { events: 'many' } }, field: /producer[./]events/ },
  {
    name: 'a string for a boolean',
    values: { networkPolicy: { enabled: 'sometimes' } },
    field: /networkPolicy[./]enabled/,
  },
  { name: 'a ratio above 1', values: { producer: { invalidRatio: 1.5 } }, field: /producer[./]invalidRatio/ },
  { name: 'an unknown producer mode', values: { producer: { mode: 'forever' } }, field: /producer[./]mode/ },
  {
    name: 'zero events per second',
    values: { producer: { eventsPerSecond: 0 } },
    field: /producer[./]eventsPerSecond/,
  },
  { name: 'a fractional rate', values: { producer: { eventsPerSecond: 2.5 } }, field: /producer[./]eventsPerSecond/ },
  { name: 'zero Kafka nodes', values: { kafka: { replicas: 0 } }, field: /kafka[./]replicas/ },
  { name: 'a fractional partition count', values: { topic: { partitions: 2.5 } }, field: /topic[./]partitions/ },
  { name: 'a topic name with spaces', values: { topic: { name: 'vehicles events!' } }, field: /topic[./]name/ },
  {
    name: 'a topic name longer than 249 characters',
    values: { topic: { name: 't'.repeat(250) } },
    field: /topic[./]name/,
  },
  {
    name: 'a lake size that is not a quantity',
    values: { persistence: { size: 'ten gigs' } },
    field: /persistence[./]size/,
  },
  {
    name: 'a memory limit that is not a quantity',
    values: { kafka: { resources: { limits: { memory: '1 GB' } } } },
    field: /kafka[./]resources[./]limits[./]memory/,
  },
  {
    name: 'an unknown access mode',
    values: { persistence: { accessModes: ['ReadWriteSometimes'] } },
    field: /persistence[./]accessModes/,
  },
  {
    name: 'kafka.enabled=false without bootstrapServers',
    values: { kafka: { enabled: false } },
    field: /bootstrapServers/,
  },
  {
    name: 'a bootstrap server without a port',
    values: { kafka: { enabled: false, bootstrapServers: 'kafka.example.com' } },
    field: /kafka[./]bootstrapServers/,
  },
  { name: 'no vehicle type', values: { pipeline: { vehicleTypes: [] } }, field: /pipeline[./]vehicleTypes/ },
  {
    name: 'a vehicle type twice',
    values: { pipeline: { vehicleTypes: ['car', 'bike', 'car'] } },
    field: /pipeline[./]vehicleTypes/,
  },
  {
    name: 'a vehicle type in capitals',
    values: { pipeline: { vehicleTypes: ['car', 'Truck'] } },
    field: /pipeline[./]vehicleTypes/,
  },
  {
    name: 'vehicle types as one string',
    values: { pipeline: { vehicleTypes: 'car,bike' } },
    field: /pipeline[./]vehicleTypes/,
  },
  {
    name: 'an env var without a name',
    values: { jobs: { extraEnv: [{ value: 'x' }] } },
    field: /jobs[./]extraEnv/,
  },
  {
    name: 'a cron schedule in words',
    values: { schedule: { pipeline: 'every minute' } },
    field: /schedule[./]pipeline/,
  },
  {
    name: 'a cron schedule of four fields',
    values: { schedule: { maintenance: '0 3 * *' } },
    field: /schedule[./]maintenance/,
  },
  { name: 'an unknown cron macro', values: { schedule: { pipeline: '@often' } }, field: /schedule[./]pipeline/ },
  {
    name: 'a time zone with a space',
    values: { schedule: { timeZone: 'Europe Paris' } },
    field: /schedule[./]timeZone/,
  },
  { name: 'a privileged metrics port', values: { metrics: { port: 80 } }, field: /metrics[./]port/ },
  {
    name: 'a pipeline schedule whose interval the stale alert cannot derive',
    values: { schedule: { pipeline: '5,35 * * * *' }, metrics: { enabled: true } },
    field: /metrics\.prometheusRule\.staleAfterSeconds/,
    apiVersions: ['monitoring.coreos.com/v1'],
    chartRule: true,
  },
  {
    name: 'a replication factor above the Kafka node count',
    values: { topic: { replicationFactor: 3 } },
    chartRule: true,
    field: /topic\.replicationFactor/,
  },
  {
    name: 'min.insync.replicas above the replication factor',
    values: { topic: { minInsyncReplicas: 2 } },
    field: /topic\.minInsyncReplicas/,
    chartRule: true,
  },
  {
    name: "SCRAM without TLS on the chart's Kafka",
    values: { kafka: { tls: { enabled: false } } },
    field: /kafka\.tls\.enabled/,
    chartRule: true,
  },
  {
    name: "SCRAM over an existing Kafka's PLAINTEXT listener without the opt-in",
    values: {
      kafka: {
        enabled: false,
        bootstrapServers: 'kafka.example.com:9092',
        tls: { enabled: false },
        auth: { existingSecret: 'kafka-users' },
      },
    },
    field: /kafka\.auth\.allowPlaintext/,
    chartRule: true,
  },
  {
    name: "the plaintext opt-in on the chart's own Kafka",
    values: { kafka: { tls: { enabled: false }, auth: { enabled: false, allowPlaintext: true } } },
    field: /kafka\.auth\.allowPlaintext/,
    chartRule: true,
  },
  {
    name: 'an existing Kafka with SCRAM but no user Secret',
    values: {
      kafka: {
        enabled: false,
        bootstrapServers: 'kafka.example.com:9093',
        auth: { users: { admin: { existingSecret: 'admin' } } },
      },
    },
    field: /kafka\.auth\.users\.producer\.existingSecret/,
    chartRule: true,
  },
  {
    name: 'both an existing certificate Secret and a cert-manager issuer',
    values: { kafka: { tls: { existingSecret: 'kafka-tls', certManager: { issuerRef: { name: 'ca-issuer' } } } } },
    field: /kafka\.tls\.certManager\.issuerRef\.name/,
    chartRule: true,
  },
  {
    name: "the PLAIN mechanism on the chart's Kafka",
    values: { kafka: { auth: { mechanism: 'plain' } } },
    field: /kafka\.auth\.mechanism/,
    chartRule: true,
  },
  {
    name: 'an unknown SASL mechanism',
    values: { kafka: { auth: { mechanism: 'gssapi' } } },
    field: /kafka[./]auth[./]mechanism/,
  },
  {
    name: 'a Kafka user name with a space',
    values: { kafka: { auth: { users: { producer: { name: 'the producer' } } } } },
    field: /kafka[./]auth[./]users[./]producer[./]name/,
  },
  {
    name: 'an unknown anti-affinity mode',
    values: { kafka: { podAntiAffinity: 'strict' } },
    field: /kafka[./]podAntiAffinity/,
  },
  {
    name: 'a REST catalog without the embedded store and without a URI',
    values: { lake: { catalog: 'rest' } },
    field: /lake[./]rest[./]uri/,
  },
  {
    name: 'an existing REST catalog without a warehouse',
    values: { lake: { catalog: 'rest', rest: { uri: 'https://catalog.example.com', existingSecret: 'keys' } } },
    field: /lake[./]rest[./]warehouse/,
  },
  {
    name: "an existing REST catalog without the storage keys' Secret",
    values: { lake: { catalog: 'rest', rest: { uri: 'https://catalog.example.com', warehouse: 's3://lake' } } },
    field: /lake[./]rest[./]existingSecret/,
  },
  {
    name: 'both the embedded store and an existing catalog',
    values: {
      lake: {
        catalog: 'rest',
        rest: { uri: 'https://catalog.example.com', warehouse: 's3://lake', existingSecret: 'keys' },
      },
      objectStore: { enabled: true },
    },
    field: /lake[./]rest[./]uri/,
  },
  {
    name: 'the embedded store with the lake on its volume',
    values: { objectStore: { enabled: true } },
    field: /lake[./]catalog/,
  },
  {
    name: "an existing catalog's Secret with the lake on its volume",
    values: { lake: { rest: { existingSecret: 'keys' } } },
    field: /lake[./]rest[./]existingSecret/,
  },
  {
    name: 'a lake volume claim with a REST catalog',
    values: { lake: { catalog: 'rest' }, objectStore: { enabled: true }, persistence: { existingClaim: 'old-lake' } },
    field: /persistence[./]existingClaim/,
  },
  {
    name: 'an unknown catalog backend',
    values: { lake: { catalog: 'glue' } },
    field: /lake[./]catalog/,
  },
  {
    name: 'a warehouse that is no s3:// location',
    values: {
      lake: {
        catalog: 'rest',
        rest: { uri: 'https://catalog.example.com', warehouse: 'lake', existingSecret: 'keys' },
      },
    },
    field: /lake[./]rest[./]warehouse/,
  },
  {
    name: 'a catalog URI that is no http(s) URL',
    values: {
      lake: { catalog: 'rest', rest: { uri: 'catalog:8181', warehouse: 's3://lake', existingSecret: 'keys' } },
    },
    field: /lake[./]rest[./]uri/,
  },
  {
    name: 'a table bucket name in capitals',
    values: { lake: { catalog: 'rest' }, objectStore: { enabled: true, tableBucket: 'Lake' } },
    field: /objectStore[./]tableBucket/,
  },
  {
    name: 'an unknown key of the object store',
    values: { lake: { catalog: 'rest' }, objectStore: { enabled: true, replicas: 3 } },
    field: /replicas/,
  },
  {
    name: 'a work directory size that is not a quantity',
    values: { lake: { workDirSize: 'a lot' } },
    field: /lake[./]workDirSize/,
  },
];
