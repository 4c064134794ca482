// The parts of KafkaJS 2.2.4's own modules that topic-id.ts uses: a broker connection, signed in as
// the job's clients are, that sends a request KafkaJS itself does not have.
declare module 'kafkajs/src/loggers/index.js' {
  export const LEVELS: { readonly NOTHING: number; readonly ERROR: number };
  export function createLogger(options: { level: number; logCreator: () => (entry: unknown) => void }): unknown;
}

declare module 'kafkajs/src/network/connectionPool.js' {
  export default class ConnectionPool {
    constructor(options: Record<string, unknown>);
    send<T>(request: {
      request: {
        apiKey: number;
        apiVersion: number;
        apiName: string;
        encode(): Promise<{ buf: Buffer; buffer: Buffer }>;
      };
      response: { decode(payload: Buffer): Promise<T>; parse(decoded: T): Promise<T> };
    }): Promise<T>;
  }
}

declare module 'kafkajs/src/broker/index.js' {
  import type ConnectionPool from 'kafkajs/src/network/connectionPool.js';
  export default class Broker {
    constructor(options: { connectionPool: ConnectionPool; logger: unknown; allowAutoTopicCreation: boolean });
    readonly connectionPool: ConnectionPool;
    /** After connect: the broker's supported versions by api key. */
    readonly versions: Record<number, { minVersion: number; maxVersion: number }>;
    connect(): Promise<void>;
    disconnect(): Promise<void>;
  }
}
