// The broker's server.properties: one KRaft node acting as broker and controller on loopback.

export interface ServerConfigInput {
  readonly clientPort: number;
  readonly controllerPort: number;
  readonly logDir: string;
  /** Overrides and additions, applied last. */
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
}

export function serverProperties(input: ServerConfigInput): string {
  const { clientPort, controllerPort, logDir } = input;
  const settings: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${clientPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${clientPort}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": logDir,
    "num.partitions": 3,
    // One node: every internal topic must be satisfiable with a single replica.
    "offsets.topic.replication.factor": 1,
    // 50 (the default) makes the first group join noticeably slower on a 2-core machine.
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    "group.initial.rebalance.delay.ms": 0,
    ...input.extra,
  };
  for (const [key, value] of Object.entries(settings)) {
    if (!/^[a-z0-9.\-_]+$/i.test(key)) throw new Error(`broker config: bad property name ${JSON.stringify(key)}`);
    if (/[\r\n]/.test(String(value))) throw new Error(`broker config: ${key} contains a line break`);
  }
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n") + "\n";
}
