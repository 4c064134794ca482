// The CLI's record of the detached broker: ${LAKEHOUSE_CACHE}/broker-state.json.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BrokerHandle } from './handle.ts';
import { lakehouseCache } from './paths.ts';

export function stateFilePath(): string {
  return join(lakehouseCache(), 'broker-state.json');
}

export function readState(): BrokerHandle | undefined {
  let text: string;
  try {
    text = readFileSync(stateFilePath(), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as Partial<BrokerHandle>;
  for (const [field, type] of [
    ['pid', 'number'],
    ['bootstrap', 'string'],
    ['dataDir', 'string'],
  ] as const) {
    if (typeof parsed[field] !== type) throw new Error(`${stateFilePath()}: field ${field} is not a ${type}`);
  }
  // A record written before the broker was secure describes a PLAINTEXT one.
  const security = parsed.security ?? 'plaintext';
  if (security !== 'sasl_ssl' && security !== 'plaintext')
    throw new Error(`${stateFilePath()}: field security is ${JSON.stringify(security)}`);
  return { pid: parsed.pid!, bootstrap: parsed.bootstrap!, dataDir: parsed.dataDir!, security };
}

export function writeState(handle: BrokerHandle): void {
  const file = stateFilePath();
  mkdirSync(dirname(file), { recursive: true });
  const { pid, bootstrap, dataDir, security } = handle;
  writeFileSync(`${file}.tmp`, JSON.stringify({ pid, bootstrap, dataDir, security }, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function clearState(): void {
  rmSync(stateFilePath(), { force: true });
}
