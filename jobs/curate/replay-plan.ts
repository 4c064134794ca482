/**
 * What `replay` does with each row of silver.rejected, as pure functions (docs/curation.md,
 * "Replaying the quarantine"): which reasons it may re-validate, and, given each candidate's fate
 * under the current rules and against silver, which rows move to silver, which become duplicates
 * and which stay.
 */
import { ConfigError } from '../errors.ts';
import { reasonCodes, type ReasonCode } from '../events/validate.ts';

/** The reason code of rows that are copies of an event silver holds: never replayed. */
export const duplicateReason: ReasonCode = 'duplicate';

/** The reasons `--reason` names (a comma list, and further words after it), or every replayable one. */
export function replayReasons(flag: string | undefined, words: readonly string[]): ReadonlySet<ReasonCode> {
  const replayable = reasonCodes.filter((code) => code !== duplicateReason);
  if (flag === undefined) {
    if (words.length > 0) throw new ConfigError(words[0], 'replay takes no arguments besides --reason CODE ...');
    return new Set(replayable);
  }
  const codes = [flag, ...words].flatMap((w) => w.split(',')).map((w) => w.trim());
  for (const code of codes) {
    if (code === '' || code === 'true')
      throw new ConfigError('--reason', `needs a reason code, one of ${replayable.join(', ')}`);
    if (code === duplicateReason)
      throw new ConfigError('--reason', 'duplicate rows are copies of an event silver holds and are never replayed');
    if (!replayable.includes(code as ReasonCode))
      throw new ConfigError('--reason', `"${code}" is not a reason code, one of ${replayable.join(', ')}`);
  }
  return new Set(codes as ReasonCode[]);
}

/** A quarantined row that passes the current rules, with the key silver de-duplicates on. */
export interface Candidate {
  readonly partition: number;
  readonly offset: number;
  readonly vehicleId: string;
  readonly eventTime: number;
}

/** The source coordinate of a silver row that holds a key: it wins over any candidate. */
export interface Holder {
  readonly partition: number;
  readonly offset: number;
}

export type Fate = { readonly kind: 'silver' } | { readonly kind: 'duplicate'; readonly of: Holder };

const keyOf = (vehicleId: string, eventTime: number) => `${eventTime}\u0000${vehicleId}`;
const before = (a: Holder, b: Holder) =>
  a.partition < b.partition || (a.partition === b.partition && a.offset < b.offset);

/**
 * Each candidate's fate, as silver de-duplicates any event: a key silver already holds wins (the
 * candidate becomes its duplicate); among candidates, the first in (partition, offset) order wins.
 * `held` maps silver's keys among the candidates' (vehicle, time) to the row holding them.
 */
export function candidateFates(
  candidates: readonly Candidate[],
  held: ReadonlyMap<string, Holder>,
): Map<Candidate, Fate> {
  const fates = new Map<Candidate, Fate>();
  const winners = new Map<string, Candidate>();
  for (const c of [...candidates].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0))) {
    const key = keyOf(c.vehicleId, c.eventTime);
    const holder = held.get(key) ?? winners.get(key);
    if (holder) fates.set(c, { kind: 'duplicate', of: { partition: holder.partition, offset: holder.offset } });
    else {
      winners.set(key, c);
      fates.set(c, { kind: 'silver' });
    }
  }
  return fates;
}

export { keyOf as silverKey };

/** Per reason, how many rows replay moves to silver, turns into duplicates, and leaves as they are. */
export type ReplayCounts = Partial<Record<ReasonCode, { silver: number; duplicate: number; stillRejected: number }>>;

export function countFate(counts: ReplayCounts, reason: ReasonCode, fate: Fate | undefined): void {
  const entry = (counts[reason] ??= { silver: 0, duplicate: 0, stillRejected: 0 });
  if (!fate) entry.stillRejected++;
  else entry[fate.kind]++;
}
