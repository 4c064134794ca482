import { vehicleTypes, type VehicleEvent, type VehicleType } from './vehicle-event.ts';

/** What the producer sends for one event: the Kafka key and the raw value. */
export interface GeneratedRecord {
  readonly key: string;
  readonly value: string;
  readonly kind: 'valid' | 'invalid' | 'duplicate';
}

export interface GeneratorOptions {
  readonly seed: number;
  readonly invalidRatio: number;
  readonly duplicateRatio: number;
  /** Vehicles per type in the fleet. */
  readonly fleetPerType?: number;
  /** Event time of the first event; each next event is one second later. */
  readonly startTime?: number;
}

// 2023-10-13T13:20:00Z, the timestamp of the replaced system's sample message.
const defaultStartTime = 1697203200000;
const paris = { latitude: 48.8566, longitude: 2.3522 };

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

/** mulberry32: small, fast and good enough to make test data; not for anything secret. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface VehicleState {
  readonly id: string;
  readonly type: VehicleType;
  latitude: number;
  longitude: number;
  battery: number;
}

/** Whether item `i` of a stream is picked when a share `ratio` of it is wanted, spread evenly. */
function picked(i: number, ratio: number): boolean {
  return Math.floor((i + 1) * ratio) > Math.floor(i * ratio);
}

/**
 * Deterministic stream of `count` records for a seed. The fleet cycles car, bike, scooter, so the
 * first three records, always valid, cover every type. Memory does not depend on `count`.
 */
export function* generateRecords(count: number, options: GeneratorOptions): Generator<GeneratedRecord> {
  const next = random(options.seed);
  const fleetPerType = options.fleetPerType ?? 10;
  const startTime = options.startTime ?? defaultStartTime;
  const fleet: VehicleState[] = [];
  for (let n = 0; n < fleetPerType; n++) {
    for (const type of vehicleTypes) {
      fleet.push({
        id: `${type.toUpperCase()}_${String(n).padStart(3, '0')}`,
        type,
        latitude: paris.latitude + (next() - 0.5) * 0.2,
        longitude: paris.longitude + (next() - 0.5) * 0.3,
        battery: 20 + Math.floor(next() * 81),
      });
    }
  }
  let invalidSeen = 0;
  let previousValid: GeneratedRecord | undefined;
  for (let i = 0; i < count; i++) {
    if (i >= 3 && previousValid && picked(i, options.duplicateRatio)) {
      yield { ...previousValid, kind: 'duplicate' };
      continue;
    }
    const vehicle = fleet[i % fleet.length];
    vehicle.latitude = clamp(vehicle.latitude + (next() - 0.5) * 0.002, -90, 90);
    vehicle.longitude = clamp(vehicle.longitude + (next() - 0.5) * 0.002, -180, 180);
    vehicle.battery = vehicle.battery <= 5 ? 100 : vehicle.battery - (next() < 0.3 ? 1 : 0);
    const event: VehicleEvent = {
      vehicleId: vehicle.id,
      type: vehicle.type,
      latitude: round(vehicle.latitude, 6),
      longitude: round(vehicle.longitude, 6),
      battery: vehicle.battery,
      timestamp: startTime + i * 1000,
    };
    if (i >= 3 && picked(i, options.invalidRatio)) {
      const invalid = invalidKinds[invalidSeen++ % invalidKinds.length];
      yield { key: vehicle.id, value: invalid(event), kind: 'invalid' };
      continue;
    }
    previousValid = { key: vehicle.id, value: JSON.stringify(event), kind: 'valid' };
    yield previousValid;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
