// KafkaJS 2.2.4 groups a send's messages by partition by copying the partition's array once per
// message: quadratic in the batch, a fifth of the producer's CPU at 1000 messages per request
// (`node --cpu-prof` of `npm run bench`; upstream tulios/kafkajs#1576, never merged). The bundle
// the chart ships swaps that one module for a linear one with the same result. The swap applies
// only to the file it was written against: a KafkaJS upgrade that changes it stops the bundle.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "esbuild";

export const GROUPING_MODULE = /[\\/]kafkajs[\\/]src[\\/]producer[\\/]groupMessagesPerPartition\.js$/;
export const LINEAR_GROUPING = path.join(path.dirname(fileURLToPath(import.meta.url)), "patches", "kafkajs-group-messages-per-partition.cjs");
/** sha256 of the module in kafkajs 2.2.4, the version the replacement was checked against. */
export const PATCHED_GROUPING_SHA256 = "ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb";

export class KafkajsPatchError extends Error {}

export const kafkajsLinearGrouping: Plugin = {
  name: "kafkajs-linear-grouping",
  setup(build) {
    build.onLoad({ filter: GROUPING_MODULE }, async ({ path: file }) => {
      const original = await readFile(file);
      const digest = createHash("sha256").update(original).digest("hex");
      if (digest !== PATCHED_GROUPING_SHA256) {
        throw new KafkajsPatchError(`${file} is not the one generator/kafkajs-patches.ts replaces (sha256 ${digest}); check whether KafkaJS fixed its quadratic grouping, then update or drop the patch`);
      }
      return { contents: await readFile(LINEAR_GROUPING, "utf8"), loader: "js" };
    });
  },
};
