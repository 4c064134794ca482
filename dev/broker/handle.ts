// What identifies a local broker: enough for a client to reach it, and for any process to stop it.

/** "sasl_ssl": TLS, SCRAM users and ACLs, as the chart's Kafka; "plaintext": neither (to measure what security costs). */
export type BrokerSecurity = 'sasl_ssl' | 'plaintext';

/** How a client reaches a broker; clients.ts turns this into client options. */
export interface BrokerAccess {
  /** "127.0.0.1:PORT" of the client listener. */
  readonly bootstrap: string;
  /** Temp dir holding server.properties, broker.log, the users' passwords and the log segments; removed by stop. */
  readonly dataDir: string;
  readonly security: BrokerSecurity;
}

/** Where a broker runs; enough to find and stop it from any process. */
export interface BrokerHandle extends BrokerAccess {
  readonly pid: number;
}
