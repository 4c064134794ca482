/** Produce picks each record's partition itself (one producer per partition): exactly as KafkaJS's default partitioner would. */
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionOfKey } from '../../jobs/kafka/murmur2.ts';
import { generateRecords } from '../../jobs/events/generate.ts';

const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: string | Buffer,
) => number;

const partitioner = suite('produce partitioner');

partitioner("murmur2 is KafkaJS's for ASCII, non-ASCII, long, empty and byte keys", () => {
  const keys: (string | Buffer)[] = [
    '',
    'a',
    'ab',
    'abc',
    'abcd',
    'vehicle-00042',
    'é',
    'vehículo-ñ-😀',
    'x'.repeat(300),
    Buffer.from([0, 255, 128, 7, 1]),
  ];
  for (let n = 0; n < 5000; n++)
    keys.push(
      Array.from({ length: n % 37 }, (_, i) =>
        String.fromCharCode(32 + ((n * 31 + i * 17) % (n % 5 === 0 ? 3000 : 95))),
      ).join(''),
    );
  for (const key of keys) assert.is(murmur2(key), kafkajsMurmur2(key), JSON.stringify(String(key)));
});

partitioner("the generated events land on the partitions KafkaJS's default partitioner gives them", () => {
  const pick = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 7]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
    for (const record of generateRecords(3000, { seed: 7, invalidRatio: 0.05, duplicateRatio: 0.02 })) {
      assert.is(
        partitionOfKey(record.key, partitions),
        pick({
          topic: 't',
          partitionMetadata: partitionMetadata as never,
          message: { key: record.key, value: record.value },
        }),
      );
    }
  }
});

partitioner.run();
