import { clamp, METRES_PER_DEGREE, paris, round } from './geo.ts';
import { random } from './random.ts';
import { producedTypes, type ProducedEvent, type ProducedType } from './vehicle-event.ts';

/**
 * How each type moves and spends its battery: speeds in m/s (cruise is what it tends to, max it
 * never exceeds), drain in battery percent per km driven.
 */
export const vehicleProfiles: {
  readonly [T in ProducedType]: {
    readonly cruise: number;
    readonly max: number;
    readonly accel: number;
    readonly drainPerKm: number;
  };
} = {
  car: { cruise: 11, max: 20, accel: 1.5, drainPerKm: 0.25 }, // city EV: 40 km/h, at most 72 km/h, ~400 km range
  bike: { cruise: 5, max: 8, accel: 0.8, drainPerKm: 1.5 }, // e-bike: 18 km/h, ~70 km range
  scooter: { cruise: 5, max: 7, accel: 0.8, drainPerKm: 3 }, // e-scooter: capped at 25 km/h, ~30 km range
};

/** A vehicle stops to charge when its battery falls to this percent, and drives on once full. */
export const CHARGE_BELOW = 10;
/** Percent per second while charging: much faster than a real charger, so a demo sees whole cycles. */
export const CHARGE_PER_SECOND = 0.5;
/** Most a heading turns per second of driving, in degrees: turns are gradual. */
const TURN_PER_SECOND = 30;

/** The area the fleet drives in (central Paris); a vehicle leaving it turns back towards the centre. */
const area = { south: 48.8, north: 48.91, west: 2.25, east: 2.45 };

interface Vehicle {
  readonly id: string;
  readonly type: ProducedType;
  latitude: number;
  longitude: number;
  /** Degrees clockwise from north. */
  heading: number;
  /** m/s. */
  speed: number;
  /** Percent, unrounded. */
  battery: number;
  charging: boolean;
  /** Epoch ms of its last report. */
  time: number;
}

export interface Fleet {
  readonly size: number;
  /** The next vehicle's report at `now` (epoch ms), having moved for the time since its last one. */
  next(now: number): ProducedEvent;
}

/** One vehicle per event per second (each reports about once a second), at least 3, at most 10,000. */
export function fleetSizeFor(eventsPerSecond: number): number {
  return clamp(Math.round(eventsPerSecond), producedTypes.length, 10_000);
}

/**
 * A fleet that reports in turn, each vehicle keeping its id and type and moving from where it
 * was. Deterministic for a seed and the same sequence of `now`s.
 */
export function createFleet(options: {
  readonly seed: number;
  readonly vehicles: number;
  readonly startTime: number;
}): Fleet {
  const next = random(options.seed);
  const width = Math.max(3, String(Math.ceil(options.vehicles / producedTypes.length) - 1).length);
  const vehicles: Vehicle[] = [];
  for (let n = 0; n < options.vehicles; n++) {
    const type = producedTypes[n % producedTypes.length];
    const battery = 3 + next() * 97;
    vehicles.push({
      id: `${type.toUpperCase()}_${String(Math.floor(n / producedTypes.length)).padStart(width, '0')}`,
      type,
      latitude: area.south + next() * (area.north - area.south),
      longitude: area.west + next() * (area.east - area.west),
      heading: next() * 360,
      speed: vehicleProfiles[type].cruise * (0.5 + next() / 2),
      battery,
      charging: battery <= CHARGE_BELOW,
      time: options.startTime,
    });
  }
  let turn = 0;
  return {
    size: vehicles.length,
    next(now) {
      const vehicle = vehicles[turn];
      turn = (turn + 1) % vehicles.length;
      // Strictly later than its last report: silver takes the same vehicle and time for a re-send.
      const time = Math.max(vehicle.time + 1, now);
      advance(vehicle, (time - vehicle.time) / 1000, next);
      vehicle.time = time;
      return {
        vehicleId: vehicle.id,
        type: vehicle.type,
        latitude: round(vehicle.latitude, 6),
        longitude: round(vehicle.longitude, 6),
        battery: Math.round(vehicle.battery),
        timestamp: vehicle.time,
      };
    },
  };
}

function advance(vehicle: Vehicle, seconds: number, next: () => number): void {
  const profile = vehicleProfiles[vehicle.type];
  if (vehicle.charging) {
    vehicle.battery = Math.min(100, vehicle.battery + CHARGE_PER_SECOND * seconds);
    if (vehicle.battery >= 100) {
      vehicle.charging = false;
      vehicle.speed = profile.cruise / 2;
    }
    return;
  }
  const maxTurn = Math.min(90, TURN_PER_SECOND * seconds);
  const home = outside(vehicle) ? bearing(vehicle, paris) : undefined;
  const wanted =
    home === undefined ? (next() - 0.5) * 2 * maxTurn : clamp(signedAngle(home - vehicle.heading), -maxTurn, maxTurn);
  vehicle.heading = (vehicle.heading + wanted + 360) % 360;
  // A random walk in speed that leans back towards cruising speed.
  const lean = (profile.cruise - vehicle.speed) * Math.min(1, 0.2 * seconds);
  vehicle.speed = clamp(
    vehicle.speed + lean + (next() - 0.5) * 2 * profile.accel * Math.min(seconds, 5),
    0,
    profile.max,
  );
  const metres = vehicle.speed * seconds;
  const radians = (vehicle.heading * Math.PI) / 180;
  vehicle.latitude = clamp(vehicle.latitude + (metres * Math.cos(radians)) / METRES_PER_DEGREE, -89, 89);
  const metresPerDegreeEast = METRES_PER_DEGREE * Math.cos((vehicle.latitude * Math.PI) / 180);
  vehicle.longitude = clamp(vehicle.longitude + (metres * Math.sin(radians)) / metresPerDegreeEast, -179, 179);
  vehicle.battery = Math.max(0, vehicle.battery - (profile.drainPerKm * metres) / 1000);
  if (vehicle.battery <= CHARGE_BELOW) {
    vehicle.charging = true;
    vehicle.speed = 0;
  }
}

function outside(v: Vehicle): boolean {
  return v.latitude < area.south || v.latitude > area.north || v.longitude < area.west || v.longitude > area.east;
}

/** Initial bearing from `from` to `to`, degrees clockwise from north (flat-earth, fine in a city). */
function bearing(from: { latitude: number; longitude: number }, to: { latitude: number; longitude: number }): number {
  const north = to.latitude - from.latitude;
  const east = (to.longitude - from.longitude) * Math.cos((from.latitude * Math.PI) / 180);
  return ((Math.atan2(east, north) * 180) / Math.PI + 360) % 360;
}

/** An angle in degrees brought into -180..180. */
function signedAngle(degrees: number): number {
  return ((((degrees + 180) % 360) + 360) % 360) - 180;
}
