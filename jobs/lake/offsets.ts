import type { Snapshot } from './iceberg/metadata.ts';
import { summaryKeys } from './table-schema.ts';

/** Per Kafka partition, the first offset not in bronze after `snapshot` (its summary says). */
export function nextOffsetsOf(snapshot: Snapshot | undefined): Map<number, number> {
  const recorded = snapshot?.summary[summaryKeys.nextOffsets];
  if (!recorded) return new Map();
  return new Map(Object.entries(JSON.parse(recorded) as Record<string, number>).map(([p, o]) => [Number(p), o]));
}

/** Per Kafka partition, the offsets `[first, next)` that `snapshot` added. */
export function offsetRangesOf(snapshot: Snapshot): Map<number, [number, number]> {
  const recorded = snapshot.summary[summaryKeys.offsetRanges];
  if (!recorded) return new Map();
  return new Map(Object.entries(JSON.parse(recorded) as Record<string, [number, number]>).map(([p, r]) => [Number(p), r]));
}

/** The bronze summary entries for a run that read `read` and leaves the table ending at `next`. */
export function offsetSummary(
  read: readonly { partition: number; first: number; next: number }[],
  next: ReadonlyMap<number, number>,
): Record<string, string> {
  const byPartition = <T>(entries: [number, T][]) => JSON.stringify(Object.fromEntries(entries.sort((a, b) => a[0] - b[0])));
  return {
    [summaryKeys.offsetRanges]: byPartition(read.map((r) => [r.partition, [r.first, r.next]])),
    [summaryKeys.nextOffsets]: byPartition([...next]),
  };
}

/** Per Kafka partition, the offset ranges `[first, next)` that `snapshot` records as lost. */
export function gapsOf(snapshot: Snapshot): Map<number, [number, number][]> {
  const recorded = snapshot.summary[summaryKeys.gaps];
  if (!recorded) return new Map();
  return new Map(Object.entries(JSON.parse(recorded) as Record<string, [number, number][]>).map(([p, r]) => [Number(p), r]));
}

/** Records that `[from, to)` of `partition` is gone from Kafka (merging with a range it extends). */
export function addGap(gaps: Map<number, [number, number][]>, partition: number, from: number, to: number): void {
  const list = gaps.get(partition) ?? [];
  const last = list.at(-1);
  if (last && last[1] === from) last[1] = to;
  else list.push([from, to]);
  gaps.set(partition, list);
}

export function gapSummary(gaps: ReadonlyMap<number, [number, number][]>): Record<string, string> {
  if (gaps.size === 0) return {};
  return { [summaryKeys.gaps]: JSON.stringify(Object.fromEntries([...gaps].sort((a, b) => a[0] - b[0]))) };
}
