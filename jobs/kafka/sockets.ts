/**
 * KafkaJS's own socket factory (kafkajs/src/network/socketFactory.js), keeping every socket it
 * opens, so that a client given up on (a Kafka that accepts connections and never answers) can
 * have them all destroyed at once: KafkaJS itself would keep such a socket until its request
 * timeout, then retry on a new one.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

const KEEP_ALIVE_DELAY_MS = 60_000;

export class TrackedSockets {
  private readonly open = new Set<net.Socket>();
  private closed = false;

  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    if (this.closed) {
      // A client that goes on retrying after it was given up on gets a socket that fails at once.
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(new Error(`connection to ${host}:${port} abandoned`)));
      return socket;
    }
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    return socket;
  };

  /** Sockets not closed yet. */
  get size(): number {
    return this.open.size;
  }

  /** Destroys every socket, and any the client opens from now on. */
  destroyAll(): void {
    this.closed = true;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }
}
