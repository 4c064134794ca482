// The continuous producer's fleet and its pacing, on simulated clocks: hours of driving in a second.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHARGE_BELOW, createFleet, fleetSizeFor, vehicleProfiles } from '../../jobs/events/fleet.ts';
import { metresBetween } from '../../jobs/events/geo.ts';
import { loadConfig } from '../../jobs/config.ts';
import { eventValidator } from '../../jobs/events/validate.ts';
import type { ProducedEvent } from '../../jobs/events/vehicle-event.ts';
import { tokenBucket } from '../../jobs/token-bucket.ts';

const { validateObject } = eventValidator(loadConfig(new Map(), {}));
const START = 1_800_000_000_000;

/** `hours` of a fleet of `vehicles` reporting `perSecond` events a second, with jittered send times. */
function drive(seed: number, vehicles: number, perSecond: number, hours: number): Map<string, ProducedEvent[]> {
  const fleet = createFleet({ seed, vehicles, startTime: START });
  const tracks = new Map<string, ProducedEvent[]>();
  for (let i = 0; i < hours * 3600 * perSecond; i++) {
    const event = fleet.next(START + Math.floor((i * 1000) / perSecond) + (i % 7));
    const track = tracks.get(event.vehicleId) ?? [];
    track.push(event);
    tracks.set(event.vehicleId, track);
  }
  return tracks;
}

test('fleet size: one vehicle per event per second, 3 to 10,000', () => {
  assert.equal([1, 2, 50, 200, 10_000, 100_000].map(fleetSizeFor), [3, 3, 50, 200, 10_000, 10_000]);
});

test('the same seed and send times give the same events; another seed does not', () => {
  const a = drive(7, 6, 6, 0.05);
  assert.equal(drive(7, 6, 6, 0.05), a);
  assert.not.equal(drive(8, 6, 6, 0.05), a);
});

test('over four hours every event is valid, and each vehicle keeps its type, moves within its top speed and stays in Paris', () => {
  const tracks = drive(42, 9, 3, 4);
  assert.equal([...tracks.keys()].sort(), [
    'BIKE_000',
    'BIKE_001',
    'BIKE_002',
    'CAR_000',
    'CAR_001',
    'CAR_002',
    'SCOOTER_000',
    'SCOOTER_001',
    'SCOOTER_002',
  ]);
  for (const [id, track] of tracks) {
    assert.equal(new Set(track.map((e) => e.type)), new Set([track[0].type]), id);
    let travelled = 0;
    for (let i = 1; i < track.length; i++) {
      const [a, b] = [track[i - 1], track[i]];
      const check = validateObject(b);
      if (!check.ok) assert.unreachable(`${id}: ${check.detail}`);
      assert.ok(b.timestamp > a.timestamp, `${id}: time advances`);
      const metres = metresBetween(a, b);
      assert.ok(
        metres <= (vehicleProfiles[a.type].max * (b.timestamp - a.timestamp)) / 1000 + 0.5,
        `${id} moved ${metres} m`,
      );
      travelled += metres;
      assert.ok(
        b.latitude > 48.75 && b.latitude < 48.96 && b.longitude > 2.2 && b.longitude < 2.5,
        `${id} left Paris: ${b.latitude},${b.longitude}`,
      );
    }
    assert.ok(travelled > 10_000, `${id} travelled only ${Math.round(travelled)} m in 4 h`);
  }
});

test('batteries drain with driving, and a vehicle at the charging level stands still until it is full again', () => {
  const tracks = drive(3, 6, 6, 12);
  let cycles = 0;
  for (const [id, track] of tracks) {
    for (let i = 1; i < track.length; i++) {
      const [a, b] = [track[i - 1], track[i]];
      if (b.battery > a.battery)
        assert.equal([b.latitude, b.longitude], [a.latitude, a.longitude], `${id} charges standing still`);
      if (a.battery < b.battery && b.battery === 100) cycles++;
      if (metresBetween(a, b) > 0) assert.ok(b.battery <= a.battery, `${id} does not charge while driving`);
    }
    assert.ok(track.every((e) => e.battery >= 0 && e.battery <= 100));
  }
  assert.ok(cycles >= 2, `${cycles} full recharges in 12 h`);
  const lowest = [...tracks.values()].flat().reduce((low, e) => Math.min(low, e.battery), 100);
  assert.ok(lowest <= CHARGE_BELOW && lowest >= CHARGE_BELOW - 2, `lowest battery ${lowest}`);
});

test('the token bucket keeps the rate over an hour of late, irregular ticks, and catches up at most its capacity', () => {
  let now = 0;
  const bucket = tokenBucket(200, 200, () => now);
  let taken = 0;
  for (let tick = 0; now < 3_600_000; tick++) {
    now += 50 + (tick % 13) * 1.7;
    taken += bucket.take(1_000);
  }
  assert.ok(Math.abs(taken - 200 * (now / 1000)) <= 1, `${taken} in ${now} ms`);
  now += 60_000;
  assert.is(bucket.take(1_000_000), 200, 'a minute-long stall is not caught up beyond the capacity');
  assert.ok(bucket.msUntilNext() > 0 && bucket.msUntilNext() <= 5);
});

test.run();
