import { clamp, paris, round } from './geo.ts';
import { recordMixer, type GeneratedRecord } from './mix.ts';
import { random } from './random.ts';
import { producedTypes, type ProducedType } from './vehicle-event.ts';

export type { GeneratedRecord } from './mix.ts';

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

interface VehicleState {
  readonly id: string;
  readonly type: ProducedType;
  latitude: number;
  longitude: number;
  battery: number;
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
    for (const type of producedTypes) {
      fleet.push({
        id: `${type.toUpperCase()}_${String(n).padStart(3, '0')}`,
        type,
        latitude: paris.latitude + (next() - 0.5) * 0.2,
        longitude: paris.longitude + (next() - 0.5) * 0.3,
        battery: 20 + Math.floor(next() * 81),
      });
    }
  }
  const mix = recordMixer(options);
  for (let i = 0; i < count; i++) {
    yield mix((index) => {
      const vehicle = fleet[index % fleet.length];
      vehicle.latitude = clamp(vehicle.latitude + (next() - 0.5) * 0.002, -90, 90);
      vehicle.longitude = clamp(vehicle.longitude + (next() - 0.5) * 0.002, -180, 180);
      vehicle.battery = vehicle.battery <= 5 ? 100 : vehicle.battery - (next() < 0.3 ? 1 : 0);
      return {
        vehicleId: vehicle.id,
        type: vehicle.type,
        latitude: round(vehicle.latitude, 6),
        longitude: round(vehicle.longitude, 6),
        battery: vehicle.battery,
        timestamp: startTime + index * 1000,
      };
    });
  }
}
