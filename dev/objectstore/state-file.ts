// The CLI's record of the detached store: ${LAKEHOUSE_CACHE}/objectstore-state.json (mode 0600: it
// holds the store's S3 secret).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lakehouseCache } from '../broker/paths.ts';
import type { ObjectStoreHandle } from './seaweedfs.ts';

export function stateFilePath(): string {
  return path.join(lakehouseCache(), 'objectstore-state.json');
}

export function readState(): ObjectStoreHandle | undefined {
  let text: string;
  try {
    text = readFileSync(stateFilePath(), 'utf8');
  } catch {
    return undefined;
  }
  const state = JSON.parse(text) as Partial<ObjectStoreHandle>;
  const problem =
    typeof state.pid !== 'number'
      ? 'pid'
      : typeof state.dir !== 'string'
        ? 'dir'
        : typeof state.tableBucket !== 'string'
          ? 'tableBucket'
          : typeof state.ports?.iceberg !== 'number' || typeof state.ports?.s3 !== 'number'
            ? 'ports'
            : typeof state.credentials?.accessKeyId !== 'string' ||
                typeof state.credentials?.secretAccessKey !== 'string'
              ? 'credentials'
              : undefined;
  if (problem) throw new Error(`${stateFilePath()}: field ${problem} is missing or wrong; remove the file`);
  return state as ObjectStoreHandle;
}

export function writeState(handle: ObjectStoreHandle): void {
  const file = stateFilePath();
  mkdirSync(path.dirname(file), { recursive: true });
  const { pid, dir, ports, credentials, tableBucket } = handle;
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ pid, dir, ports, credentials, tableBucket }, null, 2)}\n`, {
    mode: 0o600,
  });
  renameSync(`${file}.tmp`, file);
}

export function clearState(): void {
  rmSync(stateFilePath(), { force: true });
}
