/**
 * What each table has consumed of its input, in one place (docs/architecture.md, "Lineage"). Pure
 * functions over table metadata: no I/O.
 *
 * silver.vehicles and silver.rejected record, in each snapshot's summary, the last bronze snapshot
 * whose records they hold (`lakehouse.bronze.snapshot-id`); gold records the silver snapshot it was
 * computed from (`lakehouse.silver.snapshot-id`). These markers are read here and nowhere else:
 * silver and gold plan their input from them, verify checks the consistent cut they define, and
 * maintenance keeps what a reader still needs.
 *
 * A snapshot that records no marker (a compaction by another engine) consumed nothing: the marker
 * in force is the newest one at or before it. silver.rejected is committed just before
 * silver.vehicles and only when a run had rejects, so its marker may be ahead of silver's (a run
 * died between the two commits) or behind it (the last runs rejected nothing).
 */
import { DamagedTableError } from './catalog/catalog.ts';
import {
  currentSnapshot,
  lineage,
  snapshotById,
  type Snapshot,
  type SnapshotId,
  type TableMetadata,
} from './iceberg/metadata.ts';
import { expiredOffsetsOf } from './offsets.ts';
import { summaryKeys, tables, type TableKey } from './table-schema.ts';

/** The lake's tables' metadata; a table that does not exist yet is undefined. */
export type LakeMetadata = Readonly<Record<TableKey, TableMetadata | undefined>>;

/** A lake whose tables do not agree with each other; `invariant` is the check of verify it breaks. */
export class LineageError extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(message);
  }
}

const bronzeMarker = summaryKeys.bronzeSnapshot;
const silverMarker = summaryKeys.silverSnapshot;
const replayKey = summaryKeys.replayId;

/**
 * The replay a snapshot belongs to: silver's append of replayed rows, or silver.rejected's overwrite
 * that took them out of the quarantine (replay commits them in this order). A compaction carries no id.
 */
function replayOf(snapshot: Snapshot, operation: 'append' | 'overwrite'): string | undefined {
  return snapshot.summary.operation === operation ? snapshot.summary[replayKey] || undefined : undefined;
}

/** The replay ids of silver.rejected's overwrites in the lineage ending at `from`. */
function replaysOutOfQuarantine(rejected: TableMetadata | undefined, from?: Snapshot): Set<string> {
  if (!rejected) return new Set();
  return new Set(lineage(rejected, from).flatMap((s) => replayOf(s, 'overwrite') ?? []));
}

/** What replay has to know of the lake's lineage. */
export interface ReplayInput {
  /** The bronze snapshot silver's head has consumed: a replay's append consumes nothing more, so records it again. */
  readonly bronzeMarker: SnapshotId | undefined;
  /** Replays whose rows silver holds but whose overwrite of silver.rejected was not committed (a run died between). */
  readonly unfinished: readonly { readonly id: string; readonly silverSnapshot: SnapshotId }[];
}

export function replayInput(silver: TableMetadata | undefined, rejected: TableMetadata | undefined): ReplayInput {
  const done = replaysOutOfQuarantine(rejected);
  const unfinished = (silver ? lineage(silver) : []).reverse().flatMap((s) => {
    const id = replayOf(s, 'append');
    return id && !done.has(id) ? [{ id, silverSnapshot: s['snapshot-id'] }] : [];
  });
  return { bronzeMarker: markerAt(tables.silver.name, silver, bronzeMarker)?.marker, unfinished };
}

/**
 * The silver snapshots of the cut that appended replayed rows whose overwrite of silver.rejected is
 * not in the cut (a replay died between its commits and gold ran since): their rows are still in the
 * quarantine too, and verify counts them once, in silver.
 */
export function replaysStillQuarantined(lake: LakeMetadata, cut: Cut): Set<SnapshotId> {
  if (!lake.silver || !cut.snapshots.silver) return new Set();
  const done = replaysOutOfQuarantine(lake.rejected, cut.snapshots.rejected);
  return new Set(
    lineage(lake.silver, cut.snapshots.silver)
      .filter((s) => {
        const id = replayOf(s, 'append');
        return id !== undefined && !done.has(id);
      })
      .map((s) => s['snapshot-id']),
  );
}

/** The id `snapshot` records under `key`, if any. */
function markerIn(table: string, snapshot: Snapshot, key: string): SnapshotId | undefined {
  const value = snapshot.summary[key];
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d{1,20}$/.test(value))
    throw new DamagedTableError(
      table,
      `snapshot ${snapshot['snapshot-id']}`,
      `${key} is ${JSON.stringify(value)}, not a snapshot id`,
    );
  return BigInt(value);
}

/** The newest snapshot at or before `from` that records a marker under `key`, with that marker. */
function markerAt(
  table: string,
  metadata: TableMetadata | undefined,
  key: string,
  from: Snapshot | undefined = metadata && currentSnapshot(metadata),
): { readonly snapshot: Snapshot; readonly marker: SnapshotId } | undefined {
  if (!metadata || !from) return undefined;
  for (const snapshot of lineage(metadata, from)) {
    const marker = markerIn(table, snapshot, key);
    if (marker !== undefined) return { snapshot, marker };
  }
  return undefined;
}

/** Each snapshot of the table's history by its place, oldest first (0). */
function positions(metadata: TableMetadata | undefined): Map<SnapshotId, number> {
  if (!metadata) return new Map();
  return new Map(
    lineage(metadata)
      .reverse()
      .map((s, i) => [s['snapshot-id'], i]),
  );
}

/** Whether `marker` names a bronze snapshot that maintenance expired (gone, and the table records expiries). */
function expiredFromBronze(bronze: TableMetadata, marker: SnapshotId | undefined): boolean {
  return marker !== undefined && !snapshotById(bronze, marker) && expiredOffsetsOf(bronze.properties).ranges.size > 0;
}

/** The snapshots of `input`'s history after `marker` (all without one), oldest first; undefined when the marker is not in it. */
export function snapshotsAfter(input: TableMetadata, marker: SnapshotId | undefined): Snapshot[] | undefined {
  const chain = lineage(input);
  const index = marker === undefined ? chain.length : chain.findIndex((s) => s['snapshot-id'] === marker);
  return index < 0 ? undefined : chain.slice(0, index).reverse();
}

/** Those of `snapshotsAfter` that changed rows: not the `replace` snapshots of compaction, which only rewrite files. */
export function changesAfter(input: TableMetadata, marker: SnapshotId | undefined): Snapshot[] | undefined {
  return snapshotsAfter(input, marker)?.filter((s) => s.summary.operation !== 'replace');
}

/** What silver has still to read of bronze. */
export interface SilverInput {
  readonly bronzeHead: Snapshot | undefined;
  /**
   * Bronze appends whose rejects silver.rejected holds but whose events silver.vehicles does not:
   * a run died between its two commits. They are read again; only their events are written.
   */
  readonly recover: readonly Snapshot[];
  /** Bronze appends neither table holds yet, oldest first. */
  readonly pending: readonly Snapshot[];
}

/**
 * Silver's input: the bronze appends after the snapshot silver.vehicles and silver.rejected have
 * consumed. A marker that is not in bronze's history means the tables do not belong together.
 */
export function silverInput(
  bronze: TableMetadata,
  silver: TableMetadata | undefined,
  rejected: TableMetadata | undefined,
): SilverInput {
  const bronzeHead = currentSnapshot(bronze);
  const order = positions(bronze);
  const placeOf = (name: string, metadata: TableMetadata | undefined, mayBeExpired: boolean) => {
    const found = markerAt(name, metadata, bronzeMarker);
    if (!found) return -1;
    const at = order.get(found.marker);
    // silver.rejected's marker may be older than anything bronze keeps: its last runs rejected nothing.
    if (at === undefined && mayBeExpired && expiredFromBronze(bronze, found.marker)) return -1;
    if (at === undefined)
      throw new LineageError(
        'silver covers every bronze snapshot once',
        `${name} was built up to bronze snapshot ${found.marker}, which is not in bronze's history; the lake's tables do not belong together`,
      );
    return at;
  };
  const vehiclesAt = placeOf(tables.silver.name, silver, false);
  // Rejects are committed first, and only when there are some: silver's marker vouches for them too.
  const rejectedAt = Math.max(placeOf(tables.rejected.name, rejected, true), vehiclesAt);
  const chain = lineage(bronze).reverse();
  const appends = (from: number, to: number) =>
    chain.slice(from + 1, to + 1).filter((s) => s.summary.operation === 'append');
  return { bronzeHead, recover: appends(vehiclesAt, rejectedAt), pending: appends(rejectedAt, chain.length - 1) };
}

/** What gold has still to read of silver. */
export interface GoldInput {
  /** The silver snapshot gold was last computed from, if gold records one that silver still has. */
  readonly consumed: SnapshotId | undefined;
  /** Silver has nothing gold has not aggregated. */
  readonly upToDate: boolean;
  /** Silver only appended since (compactions aside): gold can add those snapshots' files to its running sums. */
  readonly appendsOnly: boolean;
  /** The silver snapshots that changed rows since, oldest first (all of silver's when gold records nothing it has). */
  readonly changes: readonly Snapshot[];
}

export function goldInput(silver: TableMetadata, gold: TableMetadata | undefined): GoldInput {
  const recorded = markerAt(tables.gold.name, gold, silverMarker, gold && currentSnapshot(gold))?.marker;
  const since = recorded === undefined ? undefined : changesAfter(silver, recorded);
  const consumed = since === undefined ? undefined : recorded;
  const changes = since ?? changesAfter(silver, undefined)!;
  return {
    consumed,
    upToDate: since !== undefined && since.length === 0,
    appendsOnly: since?.every((s) => s.summary.operation === 'append') === true,
    changes,
  };
}

/** The snapshot of each table that verify checks together, and how many newer snapshots each table has. */
export interface Cut {
  readonly snapshots: Readonly<Record<TableKey, Snapshot | undefined>>;
  /** Per table with newer snapshots than its cut, how many (the next runs' input). */
  readonly ahead: Readonly<Partial<Record<TableKey, number>>>;
}

/**
 * The consistent cut: gold's current snapshot, the silver snapshot it was computed from, the bronze
 * snapshot that silver snapshot consumed, and the newest silver.rejected snapshot whose bronze input
 * is not past that one. Without gold (or silver) yet, the cut is the heads. A run committing while
 * this is read only moves heads past the cut, as long as the tables are read downstream first.
 */
export function consistentCut(lake: LakeMetadata): Cut {
  const { bronze, silver, rejected, gold } = lake;
  const head = (m: TableMetadata | undefined) => (m ? currentSnapshot(m) : undefined);
  const goldCut = head(gold);
  const silverCut = inputOf(silver, goldCut, silverMarker, 'gold') ?? head(silver);
  const consumed = markerAt(tables.silver.name, silver, bronzeMarker, silverCut);
  const bronzeCut = inputOf(bronze, consumed?.snapshot, bronzeMarker, 'silver') ?? head(bronze);
  const snapshots = {
    bronze: bronzeCut,
    silver: silverCut,
    rejected: rejectedCut(bronze, rejected, bronzeCut, silver, silverCut),
    gold: goldCut,
  };
  const ahead: Partial<Record<TableKey, number>> = {};
  for (const key of Object.keys(snapshots) as TableKey[]) {
    const n = snapshots[key] ? lineage(lake[key]!).indexOf(snapshots[key]!) : 0;
    if (n > 0) ahead[key] = n;
  }
  return { snapshots, ahead };
}

/** The snapshot of `input` that `from` (a downstream snapshot) names under `key`; it must exist. */
function inputOf(
  input: TableMetadata | undefined,
  from: Snapshot | undefined,
  key: string,
  stage: string,
): Snapshot | undefined {
  const id = from && markerIn(stage, from, key);
  if (id === undefined || !input) return undefined;
  const found = snapshotById(input, id);
  if (!found)
    throw new LineageError(
      'every table has a snapshot',
      `${stage} snapshot ${from!['snapshot-id']} was computed from snapshot ${id}, which its input table does not have`,
    );
  return found;
}

/**
 * silver.rejected's snapshot for the cut: the newest whose bronze input is not past the cut's (or
 * was expired), and that took out of the quarantine only rows the cut's silver holds: a replay's
 * overwrite counts once silver's cut has the replay's append (or the append was expired).
 */
function rejectedCut(
  bronze: TableMetadata | undefined,
  rejected: TableMetadata | undefined,
  bronzeCut: Snapshot | undefined,
  silver: TableMetadata | undefined,
  silverCut: Snapshot | undefined,
): Snapshot | undefined {
  if (!rejected) return undefined;
  const silverHas = new Set(silver ? lineage(silver).flatMap((s) => replayOf(s, 'append') ?? []) : []);
  const cutHas = new Set(
    silver && silverCut ? lineage(silver, silverCut).flatMap((s) => replayOf(s, 'append') ?? []) : [],
  );
  const replaysInCut = (s: Snapshot) =>
    [...replaysOutOfQuarantine(rejected, s)].every((id) => cutHas.has(id) || !silverHas.has(id));
  if (!bronze || !bronzeCut) return lineage(rejected).find(replaysInCut);
  const consumed = new Set(lineage(bronze, bronzeCut).map((s) => s['snapshot-id']));
  return lineage(rejected).find((s) => {
    const marker = markerAt(tables.rejected.name, rejected, bronzeMarker, s)?.marker;
    return marker !== undefined && (consumed.has(marker) || expiredFromBronze(bronze, marker)) && replaysInCut(s);
  });
}

/**
 * The check that silver's history, up to the cut, consumed each bronze append of the cut's history
 * exactly once and in order, through the cut's bronze snapshot. Returns what is wrong, if anything.
 */
export function silverConsumedBronzeOnce(lake: LakeMetadata, cut: Cut): string | undefined {
  const bronze = lake.bronze!;
  const bronzeChain = lineage(bronze, cut.snapshots.bronze).reverse();
  const bronzeOrder = new Map(bronzeChain.map((s, i) => [s['snapshot-id'], i]));
  let last = -1;
  for (const snapshot of lineage(lake.silver!, cut.snapshots.silver).reverse()) {
    // A replay's append holds records of the quarantine, not of a bronze snapshot: it consumes nothing.
    if (replayOf(snapshot, 'append') !== undefined) continue;
    const marker = markerIn(tables.silver.name, snapshot, bronzeMarker);
    const position = marker === undefined ? undefined : bronzeOrder.get(marker);
    if (snapshot.summary.operation !== 'append') {
      // A compaction carries its parent's marker and consumes nothing. When expiry has left no
      // append before it, its marker is where the retained history starts.
      if (last === -1 && position !== undefined) last = position;
      continue;
    }
    // Silver's first snapshots may name bronze snapshots that maintain has expired since.
    if (position === undefined && last === -1 && expiredFromBronze(bronze, marker)) continue;
    if (position === undefined)
      return `silver snapshot ${snapshot['snapshot-id']} records bronze snapshot ${marker ?? '(none)'}, which is not in bronze's history`;
    if (position <= last) return `silver snapshot ${snapshot['snapshot-id']} consumed bronze snapshot ${marker} again`;
    last = position;
  }
  if (last !== bronzeChain.length - 1)
    return `silver's snapshot ${cut.snapshots.silver!['snapshot-id']} has not consumed bronze snapshot ${cut.snapshots.bronze!['snapshot-id']}`;
  return undefined;
}

/**
 * How far a table's reader has consumed it, as maintenance must respect it: the snapshots from the
 * reader's (or verify's) point on, and the files they added, are still to be read.
 * `all`: nothing reads the table incrementally; `none`: its reader has not started (keep everything).
 */
export type Consumed =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'through'; readonly snapshot: SnapshotId };

/** Per table, what its reader and verify have consumed of it. */
export function consumedByReaders(lake: LakeMetadata): Record<TableKey, Consumed> {
  const cut = consistentCut(lake);
  const through = (s: Snapshot | undefined): Consumed =>
    s ? { kind: 'through', snapshot: s['snapshot-id'] } : { kind: 'none' };
  const silverStarted = markerAt(tables.silver.name, lake.silver, bronzeMarker) !== undefined;
  const goldRecorded = markerAt(tables.gold.name, lake.gold, silverMarker) !== undefined;
  return {
    bronze: silverStarted ? through(cut.snapshots.bronze) : { kind: 'none' },
    // Gold without a marker recomputes from all of silver.
    silver: goldRecorded ? through(cut.snapshots.silver) : { kind: 'all' },
    rejected: through(cut.snapshots.rejected),
    gold: { kind: 'all' },
  };
}

/**
 * Per snapshot of the table's history, whether its reader has consumed it (the last consumed one
 * included). Snapshots no longer in the history (expired) count as consumed.
 */
export function consumedSnapshots(table: TableMetadata, consumed: Consumed): (id: SnapshotId) => boolean {
  const position = positions(table);
  const through =
    consumed.kind === 'all'
      ? position.size - 1
      : consumed.kind === 'none'
        ? -1
        : (position.get(consumed.snapshot) ?? -1);
  return (id) => {
    const at = position.get(id);
    return at === undefined ? consumed.kind !== 'none' : at <= through;
  };
}

/** Per stage, how many snapshots of its input it has still to read (status and the exporter show them). */
export function pendingSnapshots(lake: LakeMetadata): { readonly silver: number; readonly gold: number } {
  const silver = lake.bronze ? silverInput(lake.bronze, lake.silver, lake.rejected) : undefined;
  const gold = lake.silver ? goldInput(lake.silver, lake.gold) : undefined;
  return {
    silver: silver ? silver.recover.length + silver.pending.length : 0,
    gold: gold && !gold.upToDate ? gold.changes.length : 0,
  };
}

/**
 * What `forget` records on bronze (jobs/forget.ts). Table properties, not snapshot summaries, so
 * that maintain's expiry of the erasure snapshot cannot lose them.
 */
export const erasureKeys = {
  /** bronze table property: JSON `{"<partition>": [[first, next], ...]}`, every offset an erasure removed. */
  erasedOffsets: 'lakehouse.kafka.erased-offsets',
  /** bronze table property: JSON `{run, salt, vehicles}` of an erasure not finished yet; empty once it is. */
  pending: 'lakehouse.erasure.pending',
  /** summary of each table's erasure snapshot: the forget run that committed it. */
  run: 'lakehouse.erasure.run',
  /** summary of bronze's erasure snapshot: the salted digests of the vehicles erased (jobs/forget/plan.ts). */
  vehicles: 'lakehouse.erasure.vehicles',
} as const;

/** Per Kafka partition, the offset ranges `[first, next)` that erasures removed from bronze (verify expects them absent). */
export function erasedOffsets(bronze: TableMetadata | undefined): Map<number, [number, number][]> {
  const recorded = bronze?.properties?.[erasureKeys.erasedOffsets];
  if (!recorded) return new Map();
  return new Map(
    Object.entries(JSON.parse(recorded) as Record<string, [number, number][]>).map(([p, r]) => [Number(p), r]),
  );
}

/** An erasure that has not finished every step (a forget run died), as bronze records it. */
export interface PendingErasure {
  readonly run: string;
  readonly salt: string;
  readonly vehicles: readonly string[];
}

export function pendingErasure(bronze: TableMetadata | undefined): PendingErasure | undefined {
  const recorded = bronze?.properties?.[erasureKeys.pending];
  if (!recorded) return undefined;
  const parsed = JSON.parse(recorded) as PendingErasure;
  if (typeof parsed.run !== 'string' || typeof parsed.salt !== 'string' || !Array.isArray(parsed.vehicles))
    throw new DamagedTableError(tables.bronze.name, 'properties', `${erasureKeys.pending} is not an erasure record`);
  return parsed;
}
