import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kafkajsLinearGrouping, LINEAR_GROUPING } from "../../generator/kafkajs-patches.ts";
import { REPO_ROOT } from "../../generator/bundle-jobs.ts";

type Grouping = (args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: (a: { message: unknown }) => number }) => Record<string, unknown[]>;
const require = createRequire(import.meta.url);
const original = require("kafkajs/src/producer/groupMessagesPerPartition.js") as Grouping;
const linear = require(LINEAR_GROUPING) as Grouping;

test("the linear grouping returns what KafkaJS's own returns: the same partitions, each in message order", () => {
  let seed = 7;
  const random = () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  for (const [count, partitions] of [[0, 3], [1, 1], [17, 3], [1000, 3], [2500, 8], [300, 64]]) {
    const messages = Array.from({ length: count }, (_, i) => ({ key: `vehicle-${Math.floor(random() * 50)}`, value: `event ${i}`, partition: Math.floor(random() * partitions) }));
    const args = { topic: "t", partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i })), messages, partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition };
    const expected = original(args);
    const got = linear(args);
    assert.equal(got, expected, `${count} messages over ${partitions} partitions`);
    assert.equal(Object.keys(got), Object.keys(expected));
    for (const key of Object.keys(got)) for (let i = 0; i < got[key].length; i++) assert.is(got[key][i], expected[key][i]);
  }
  assert.equal(linear({ topic: "t", partitionMetadata: [], messages: [{}], partitioner: () => 0 }), {});
});

test("the jobs' bundle carries the linear grouping in place of KafkaJS's", async () => {
  const result = await build({
    stdin: { contents: 'export { default } from "kafkajs/src/producer/groupMessagesPerPartition.js";', resolveDir: REPO_ROOT },
    bundle: true, platform: "node", format: "esm", write: false, logLevel: "silent", plugins: [kafkajsLinearGrouping],
  });
  const text = result.outputFiles[0].text;
  assert.ok(text.includes("if (group) group.push(message)"), text);
  assert.not.ok(text.includes("[...current, message]"));
});

test("a KafkaJS whose grouping module changed stops the bundle instead of being patched blindly", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lakehouse-kafkajs-patch-"));
  try {
    const file = path.join(dir, "node_modules", "kafkajs", "src", "producer", "groupMessagesPerPartition.js");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, "module.exports = () => ({}) // a later KafkaJS\n");
    const error = await build({ entryPoints: [file], bundle: true, platform: "node", write: false, logLevel: "silent", plugins: [kafkajsLinearGrouping] }).then(() => undefined, (e: Error) => e);
    assert.ok(error, "the bundle was built");
    assert.match(error!.message, /groupMessagesPerPartition\.js is not the one generator\/kafkajs-patches\.ts replaces/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
