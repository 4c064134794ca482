/**
 * The metrics exporter answers every scrape within a second, whatever Kafka does: it serves lake
 * and Kafka state it refreshes in the background, one refresh at a time, and says which part could
 * not be read and how old each part is. Kafka here is a real TCP server that accepts connections and
 * never answers (a hung broker), or a closed port; the exporter's connections to it are counted as
 * the kernel lists them for its process.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeCertificates } from '../../dev/broker/tls.ts';
import { connectionsTo, freePort, parseMetrics, sampleOf, startExporter, type Exporter } from '../support/exporter.ts';
import { describeFailure, temporaryDir } from '../support/lake.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Kafka that accepts every connection and never sends a byte. */
async function hungKafka() {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    close: () => {
      for (const socket of open) socket.destroy();
      server.close();
    },
  };
}

/** Settings of an exporter on an empty lake whose Kafka is at `port`, with the default Kafka wait (300 s). */
function exporterEnv(port: number, security: 'plaintext' | 'sasl_ssl'): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_BOOTSTRAP_SERVER: `127.0.0.1:${port}`,
    LAKEHOUSE_DATA_DIR: temporaryDir('exporter-lake'),
    LAKEHOUSE_KAFKA_WAIT_SECONDS: '300',
    LAKEHOUSE_KAFKA_SECURITY: security,
  };
  if (security === 'sasl_ssl') {
    const secrets = temporaryDir('exporter-secrets');
    makeCertificates(secrets);
    fs.writeFileSync(path.join(secrets, 'password'), 'a-password\n');
    Object.assign(env, {
      LAKEHOUSE_KAFKA_CA_FILE: path.join(secrets, 'ca.crt'),
      LAKEHOUSE_KAFKA_PASSWORD_FILE: path.join(secrets, 'password'),
    });
  }
  return env;
}

interface Watch {
  /** The slowest scrape, in ms. */
  slowest: number;
  /** The most sockets the exporter held to Kafka's port at one time, while scraped and after. */
  mostSockets: number;
  socketsAfter: number;
  last: ReturnType<typeof parseMetrics>;
}

/** Scrapes once a second for `scrapeMs`, then only counts sockets for `quietMs`. */
async function watch(exporter: Exporter, kafkaPort: number, scrapeMs: number, quietMs: number): Promise<Watch> {
  const result: Watch = { slowest: 0, mostSockets: 0, socketsAfter: 0, last: [] };
  const count = () => {
    const sockets = connectionsTo(exporter.pid, kafkaPort);
    result.mostSockets = Math.max(result.mostSockets, sockets);
    return sockets;
  };
  for (const end = Date.now() + scrapeMs; Date.now() < end; ) {
    const scrape = await exporter.get('/metrics', 5_000);
    result.slowest = Math.max(result.slowest, scrape.ms);
    if (scrape.status === 200) result.last = parseMetrics(scrape.text);
    count();
    await sleep(1_000);
  }
  for (const end = Date.now() + quietMs; Date.now() < end; ) {
    result.socketsAfter = count();
    await sleep(1_000);
  }
  return result;
}

function assertKafkaDown(result: Watch, label: string): void {
  assert.ok(result.slowest <= 1_000, `${label}: the slowest scrape took ${Math.round(result.slowest)} ms`);
  const value = (name: string) => sampleOf(result.last, name)?.value;
  assert.is(value('lakehouse_up'), 0, `${label}: lakehouse_up`);
  assert.is(value('lakehouse_kafka_up'), 0, `${label}: Kafka is the part that failed`);
  assert.is(value('lakehouse_lake_up'), 1, `${label}: the lake was read`);
  assert.ok(value('lakehouse_lake_state_age_seconds')! < 15, `${label}: the lake part is fresh`);
  assert.is(value('lakehouse_kafka_state_age_seconds'), undefined, `${label}: Kafka was never read`);
}

const down = suite('metrics exporter with Kafka down');

down(
  'a Kafka that accepts connections and never answers: every scrape answers within 1 s, and the exporter holds at most 2 sockets to it',
  async () => {
    const kafka = await hungKafka();
    const exporters = await Promise.all([
      startExporter(exporterEnv(kafka.port, 'plaintext')),
      startExporter(exporterEnv(kafka.port, 'sasl_ssl')),
    ]);
    try {
      // 30 s scraped and 15 s not: several of the exporter's refresh periods (at most 10 s + 5 s each).
      const [plaintext, tls] = await Promise.all(
        exporters.map((exporter) => watch(exporter, kafka.port, 30_000, 15_000)),
      );
      assertKafkaDown(plaintext, 'plaintext');
      assertKafkaDown(tls, 'sasl_ssl');
      for (const [label, result] of [
        ['plaintext', plaintext],
        ['sasl_ssl', tls],
      ] as const) {
        assert.ok(result.mostSockets <= 2, `${label}: up to ${result.mostSockets} sockets to the hung Kafka at once`);
        assert.ok(result.socketsAfter <= 2, `${label}: ${result.socketsAfter} sockets once scrapes stopped`);
      }
      // Each exporter went on trying (so the bound above is not that of an exporter that gave up).
      assert.ok(kafka.accepted() >= 2 * 3, `the hung Kafka accepted ${kafka.accepted()} connections in all`);
    } finally {
      for (const exporter of exporters) {
        const stopped = await exporter.stop();
        assert.is(stopped.exitCode, 0, describeFailure(stopped));
      }
      kafka.close();
    }
  },
);

down("Kafka's port closed: every scrape answers within 1 s, naming Kafka as the part that failed", async () => {
  const closed = await freePort();
  const exporter = await startExporter(exporterEnv(closed, 'plaintext'));
  try {
    const result = await watch(exporter, closed, 12_000, 0);
    assertKafkaDown(result, 'closed port');
  } finally {
    const stopped = await exporter.stop();
    assert.is(stopped.exitCode, 0, describeFailure(stopped));
    const warning = stopped.lines.find((l) => l.level === 'warn' && String(l.msg).startsWith('lakehouse_up 0'));
    assert.match(String(warning?.error), `Kafka at 127.0.0.1:${closed}`);
  }
});

down.run();
