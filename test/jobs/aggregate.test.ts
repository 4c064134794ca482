import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GoldAggregator } from '../../jobs/gold/aggregate.ts';

const event = (vehicleId: string, type: string, battery: number, eventTime: number, latitude = 48, longitude = 2) => ({
  vehicleId,
  type,
  battery,
  eventTime,
  latitude,
  longitude,
});

test('one row per type, sorted, with counts, extremes and averages', () => {
  const gold = new GoldAggregator();
  gold.add(event('CAR_000', 'car', 80, 3000, 48.5, 2.5));
  gold.add(event('CAR_000', 'car', 60, 1000, 49.5, 3.5));
  gold.add(event('CAR_001', 'car', 70, 2000, 48, 2));
  gold.add(event('BIKE_000', 'bike', 10, 5000));
  const [bike, car] = gold.rows(42);
  assert.equal(bike, {
    type: 'bike',
    event_count: 1,
    vehicle_count: 1,
    avg_battery: 10,
    min_battery: 10,
    max_battery: 10,
    avg_latitude: 48,
    avg_longitude: 2,
    first_event_at: 5000,
    last_event_at: 5000,
    computed_at: 42,
  });
  assert.equal(car, {
    type: 'car',
    event_count: 3,
    vehicle_count: 2,
    avg_battery: 70,
    min_battery: 60,
    max_battery: 80,
    avg_latitude: 48.666666666666664,
    avg_longitude: 2.6666666666666665,
    first_event_at: 1000,
    last_event_at: 3000,
    computed_at: 42,
  });
});

test('no events, no rows', () => {
  assert.equal(new GoldAggregator().rows(0), []);
});

test('averages stay exact over many events (compensated summation)', () => {
  const gold = new GoldAggregator();
  for (let i = 0; i < 1_000_000; i++) gold.add(event(`CAR_${i % 10}`, 'car', i % 2 ? 100 : 0, i, i % 2 ? 0.1 : 0.2));
  const [car] = gold.rows(0);
  assert.is(car.avg_battery, 50);
  assert.ok(Math.abs(car.avg_latitude - 0.15) < 1e-15, String(car.avg_latitude));
});

test.run();
