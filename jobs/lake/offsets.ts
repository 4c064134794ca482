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
  return new Map(
    Object.entries(JSON.parse(recorded) as Record<string, [number, number]>).map(([p, r]) => [Number(p), r]),
  );
}

/** The bronze summary entries for a run that read `read` and leaves the table ending at `next`. */
export function offsetSummary(
  read: readonly { partition: number; first: number; next: number }[],
  next: ReadonlyMap<number, number>,
): Record<string, string> {
  const byPartition = <T>(entries: [number, T][]) =>
    JSON.stringify(Object.fromEntries(entries.sort((a, b) => a[0] - b[0])));
  return {
    [summaryKeys.offsetRanges]: byPartition(read.map((r) => [r.partition, [r.first, r.next]])),
    [summaryKeys.nextOffsets]: byPartition([...next]),
  };
}

/** Per Kafka partition, the offset ranges `[first, next)` that `snapshot` records as lost. */
export function gapsOf(snapshot: Snapshot): Map<number, [number, number][]> {
  const recorded = snapshot.summary[summaryKeys.gaps];
  if (!recorded) return new Map();
  return new Map(
    Object.entries(JSON.parse(recorded) as Record<string, [number, number][]>).map(([p, r]) => [Number(p), r]),
  );
}

/** Adds `[from, to)` to `partition`'s ranges, merging it with the last one when it extends it (gaps: offsets gone from Kafka). */
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

type RangesByPartition = Map<number, [number, number][]>;

function parseRanges(recorded: string | undefined): RangesByPartition {
  if (!recorded) return new Map();
  return new Map(
    Object.entries(JSON.parse(recorded) as Record<string, [number, number][]>).map(([p, r]) => [Number(p), r]),
  );
}

const rangesJson = (ranges: RangesByPartition) =>
  JSON.stringify(Object.fromEntries([...ranges].sort((a, b) => a[0] - b[0])));

/**
 * What bronze's expired snapshots recorded, kept in the table's properties by maintain: per Kafka
 * partition, the offset ranges they added (merged where adjacent) and the gaps they recorded.
 */
export function expiredOffsetsOf(properties: Readonly<Record<string, string>>): {
  ranges: RangesByPartition;
  gaps: RangesByPartition;
} {
  return {
    ranges: parseRanges(properties[summaryKeys.expiredOffsetRanges]),
    gaps: parseRanges(properties[summaryKeys.expiredGaps]),
  };
}

/** The table properties recording `snapshots` (oldest first) as expired, on top of what `properties` already record. */
export function expiredOffsetProperties(
  properties: Readonly<Record<string, string>>,
  snapshots: readonly Snapshot[],
): Record<string, string> {
  const { ranges, gaps } = expiredOffsetsOf(properties);
  for (const snapshot of snapshots) {
    if (snapshot.summary.operation !== 'append') continue;
    for (const [partition, [from, to]] of offsetRangesOf(snapshot)) addGap(ranges, partition, from, to);
    for (const [partition, list] of gapsOf(snapshot)) for (const [from, to] of list) addGap(gaps, partition, from, to);
  }
  return {
    ...(ranges.size ? { [summaryKeys.expiredOffsetRanges]: rangesJson(ranges) } : {}),
    ...(gaps.size ? { [summaryKeys.expiredGaps]: rangesJson(gaps) } : {}),
  };
}
