import type { VehicleEvent } from './vehicle-event.ts';

/** What the producer sends for one event: the Kafka key and the raw value. */
export interface GeneratedRecord {
  readonly key: string;
  readonly value: string;
  readonly kind: 'valid' | 'invalid' | 'duplicate';
}

export interface MixOptions {
  readonly invalidRatio: number;
  readonly duplicateRatio: number;
}

/** Invalid payloads in a fixed rotation, so that every reason code shows up in small runs. */
const invalidKinds: ReadonlyArray<(event: VehicleEvent) => string> = [
  (e) => JSON.stringify({ ...e, battery: 150 }),
  (e) => JSON.stringify({ ...e, latitude: 95.5 }),
  (e) => JSON.stringify({ ...e, battery: undefined }),
  (e) => JSON.stringify(e).slice(0, 25),
  (e) => JSON.stringify({ ...e, longitude: -200.25 }),
  (e) => JSON.stringify({ ...e, battery: String(e.battery) }),
  (e) => JSON.stringify({ ...e, type: 'truck' }),
  (e) => JSON.stringify(e).replace(/"latitude":[^,]+/, '"latitude":NaN'),
  (e) => JSON.stringify({ ...e, battery: -5 }),
];

/** Whether item `i` of a stream is picked when a share `ratio` of it is wanted, spread evenly. */
function picked(i: number, ratio: number): boolean {
  return Math.floor((i + 1) * ratio) > Math.floor(i * ratio);
}

/**
 * Turns a stream of events into the records the producer sends, with the asked shares of invalid
 * payloads (each fails silver's rules for a known reason) and exact re-sends of the last valid
 * record. The first three records are always valid. `nextEvent(i)` is called only for records that
 * are not duplicates, so a duplicate consumes no event.
 */
export function recordMixer(options: MixOptions): (nextEvent: (i: number) => VehicleEvent) => GeneratedRecord {
  let i = 0;
  let invalidSeen = 0;
  let previousValid: GeneratedRecord | undefined;
  return (nextEvent) => {
    const index = i++;
    if (index >= 3 && previousValid && picked(index, options.duplicateRatio))
      return { ...previousValid, kind: 'duplicate' };
    const event = nextEvent(index);
    if (index >= 3 && picked(index, options.invalidRatio)) {
      const invalid = invalidKinds[invalidSeen++ % invalidKinds.length];
      return { key: event.vehicleId, value: invalid(event), kind: 'invalid' };
    }
    previousValid = { key: event.vehicleId, value: JSON.stringify(event), kind: 'valid' };
    return previousValid;
  };
}
