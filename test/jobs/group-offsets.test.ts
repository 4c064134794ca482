// Bronze's consumer group offsets on a real broker: every partition is moved by one OffsetCommit
// request (a reader of the group never sees it half moved), observed on the client's own sockets.
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setGroupOffsets } from '../../jobs/kafka/group-offsets.ts';
import { sharedBroker, testKafka } from '../support/broker-fixture.ts';
import { uniqueNames } from '../support/lake.ts';

const OFFSET_COMMIT = 8;

/**
 * KafkaJS's socket factory, recording the api key of every request the client writes (before TLS
 * encrypts it): each request is a frame of a 4-byte size, then the api key.
 */
function recordingRequests(apiKeys: number[]): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    let pending = Buffer.alloc(0);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
      pending = Buffer.concat([pending, Buffer.from(chunk as Buffer)]);
      while (pending.length >= 6 && pending.length >= 4 + pending.readInt32BE(0)) {
        apiKeys.push(pending.readInt16BE(4));
        pending = pending.subarray(4 + pending.readInt32BE(0));
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  };
}

test("bronze's group offsets: all partitions in one OffsetCommit request, and the group holds them", async () => {
  const { bootstrap } = await sharedBroker();
  const { topic, group } = uniqueNames('group-offsets');
  const partitions = 6;
  const setup = testKafka(bootstrap).admin();
  await setup.connect();
  try {
    await setup.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
    const apiKeys: number[] = [];
    const kafka = testKafka(bootstrap, 'admin', { socketFactory: recordingRequests(apiKeys) });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const base of [10, 1_000]) {
        apiKeys.length = 0;
        const wanted = Array.from({ length: partitions }, (_, partition) => ({
          partition,
          offset: String(base + partition),
        }));
        await setGroupOffsets(kafka, admin, group, topic, wanted);
        assert.is(apiKeys.filter((k) => k === OFFSET_COMMIT).length, 1, `OffsetCommit requests of ${apiKeys}`);
        const [held] = await setup.fetchOffsets({ groupId: group, topics: [topic] });
        assert.equal(
          held!.partitions
            .map((p) => ({ partition: p.partition, offset: p.offset }))
            .sort((a, b) => a.partition - b.partition),
          wanted,
        );
      }
    } finally {
      await admin.disconnect();
    }
  } finally {
    await setup.disconnect();
  }
});

test.run();
