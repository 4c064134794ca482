import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, parseArgs } from '../../jobs/config.ts';
import { ConfigError } from '../../jobs/errors.ts';
import { checkLogLevel } from '../../jobs/log.ts';

const configError = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

test('defaults follow the replaced system', () => {
  const config = loadConfig(new Map(), {});
  assert.equal(config.bootstrapServers, ['localhost:9092']);
  assert.is(config.topic, 'vehicles-events');
  assert.is(config.events, 30);
  assert.is(config.dataDir, './data');
});

test('environment variables are read and flags override them', () => {
  const env = { KAFKA_BOOTSTRAP_SERVER: 'kafka:9092,kafka-1:9092', LAKEHOUSE_EVENTS: '100' };
  const config = loadConfig(parseArgs(['--events', '7', '--topic=my.topic']).flags, env);
  assert.equal(config.bootstrapServers, ['kafka:9092', 'kafka-1:9092']);
  assert.is(config.events, 7);
  assert.is(config.topic, 'my.topic');
});

test('a bad value names the setting it came from', () => {
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_EVENTS: 'many' })).message,
    /LAKEHOUSE_EVENTS: "many" is not an integer/,
  );
  assert.match(
    configError(() => loadConfig(parseArgs(['--events', '-3']).flags, {})).message,
    /--events: -3 is outside/,
  );
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_INVALID_RATIO: '1.5' })).message,
    /LAKEHOUSE_INVALID_RATIO/,
  );
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_TOPIC: 'bad topic!' })).message,
    /LAKEHOUSE_TOPIC: "bad topic!" is not a valid Kafka topic name/,
  );
  assert.match(
    configError(() => loadConfig(new Map(), { KAFKA_BOOTSTRAP_SERVER: 'kafka' })).message,
    /KAFKA_BOOTSTRAP_SERVER: "kafka" is not host:port/,
  );
  assert.match(configError(() => loadConfig(new Map(), { LAKEHOUSE_PARTITIONS: '0' })).message, /LAKEHOUSE_PARTITIONS/);
});

test('an unknown flag is refused', () => {
  assert.match(configError(() => loadConfig(parseArgs(['--evnets', '3']).flags, {})).message, /--evnets: unknown flag/);
});

test('an empty environment variable means the default, except for a path or a name', () => {
  assert.is(loadConfig(new Map(), { LAKEHOUSE_EVENTS: '' }).events, 30);
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_DATA_DIR: '' })).message,
    /LAKEHOUSE_DATA_DIR: is set but empty/,
  );
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_CONSUMER_GROUP: ' ' })).message,
    /LAKEHOUSE_CONSUMER_GROUP: is set but empty/,
  );
});

test('shares are decimal numbers (0x1 is refused, not read as 1)', () => {
  assert.match(
    configError(() => loadConfig(new Map(), { LAKEHOUSE_INVALID_RATIO: '0x1' })).message,
    /LAKEHOUSE_INVALID_RATIO: "0x1" is not a decimal number/,
  );
  assert.is(loadConfig(new Map(), { LAKEHOUSE_INVALID_RATIO: '1e-1' }).invalidRatio, 0.1);
});

test('LAKEHOUSE_VEHICLE_TYPES: car, bike and scooter by default, a list from the variable, the flag over it', () => {
  assert.equal(loadConfig(new Map(), {}).vehicleTypes, ['car', 'bike', 'scooter']);
  assert.equal(loadConfig(new Map(), { LAKEHOUSE_VEHICLE_TYPES: '' }).vehicleTypes, ['car', 'bike', 'scooter']);
  const env = { LAKEHOUSE_VEHICLE_TYPES: ' car , bike,scooter,truck ' };
  assert.equal(loadConfig(new Map(), env).vehicleTypes, ['car', 'bike', 'scooter', 'truck']);
  assert.equal(loadConfig(parseArgs(['--vehicle-types', 'tram,e-bike']).flags, env).vehicleTypes, ['tram', 'e-bike']);
});

test('a bad vehicle type list names the setting it came from and why', () => {
  for (const [env, argv, message] of [
    [{ LAKEHOUSE_VEHICLE_TYPES: 'car,Truck' }, [], /LAKEHOUSE_VEHICLE_TYPES: "Truck" is not a lowercase name/],
    [{ LAKEHOUSE_VEHICLE_TYPES: 'car,bike,car' }, [], /LAKEHOUSE_VEHICLE_TYPES: "car" is named twice/],
    [{ LAKEHOUSE_VEHICLE_TYPES: ' , ' }, [], /LAKEHOUSE_VEHICLE_TYPES: must name at least one/],
    [{}, ['--vehicle-types', 'car;bike'], /--vehicle-types: "car;bike" is not a lowercase name/],
    [{ LAKEHOUSE_VEHICLE_TYPES: 'car' }, ['--vehicle-types', '2cv'], /--vehicle-types: "2cv" is not a lowercase name/],
  ] as const) {
    assert.match(configError(() => loadConfig(parseArgs([...argv]).flags, env)).message, message);
  }
});

test('an unknown log level is refused, naming LAKEHOUSE_LOG_LEVEL', () => {
  assert.match(
    configError(() => checkLogLevel({ LAKEHOUSE_LOG_LEVEL: 'verbose' })).message,
    /LAKEHOUSE_LOG_LEVEL: "verbose" is not one of debug, info, warn, error/,
  );
  checkLogLevel({ LAKEHOUSE_LOG_LEVEL: 'warn' });
  checkLogLevel({});
});

test.run();
