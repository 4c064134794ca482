// npm run objectstore -- start|stop|status
//   start   starts a detached SeaweedFS (or finds the running one) and prints its settings as
//           `export NAME=value` lines: eval "$(npm run -s objectstore -- start)"
//   status  "# objectstore running …" and the same lines (exit 0), or "# objectstore not running" (exit 1)
//   stop    stops it and removes its directory and the state file
import {
  objectStoreRunning,
  objectStoreSettings,
  type ObjectStoreHandle,
  startObjectStore,
  stopObjectStore,
} from './seaweedfs.ts';
import { exportLines } from './settings.ts';
import { clearState, readState, stateFilePath, writeState } from './state-file.ts';

const exportsOf = (handle: ObjectStoreHandle) => exportLines(objectStoreSettings(handle));

async function start(): Promise<void> {
  const existing = readState();
  if (existing && objectStoreRunning(existing)) {
    console.error(`objectstore already running (pid ${existing.pid}, data ${existing.dir})`);
    console.log(exportsOf(existing));
    return;
  }
  if (existing) {
    console.error(`objectstore pid ${existing.pid} is gone; removing its data and starting a new one`);
    await stopObjectStore(existing);
    clearState();
  }
  const store = await startObjectStore({ detached: true });
  writeState(store);
  console.error(
    `objectstore started in ${(store.readyMs / 1000).toFixed(1)} s (SeaweedFS pid ${store.pid}, data ${store.dir}, log ${store.dir}/stdout.log)`,
  );
  console.log(exportsOf(store));
}

async function stop(): Promise<void> {
  const existing = readState();
  if (!existing) {
    console.log('objectstore not running (no state file)');
    return;
  }
  const wasRunning = objectStoreRunning(existing);
  await stopObjectStore(existing);
  clearState();
  console.log(
    wasRunning ? `objectstore stopped (pid ${existing.pid})` : 'objectstore was not running; removed its state',
  );
}

function status(): void {
  const existing = readState();
  if (existing && objectStoreRunning(existing)) {
    console.log(`# objectstore running (pid ${existing.pid}, data ${existing.dir}, state ${stateFilePath()})`);
    console.log(exportsOf(existing));
    return;
  }
  console.log('# objectstore not running');
  process.exitCode = 1;
}

const command = process.argv[2];
try {
  if (command === 'start') await start();
  else if (command === 'stop') await stop();
  else if (command === 'status') status();
  else {
    console.error(`usage: npm run objectstore -- start|stop|status (got ${command ?? 'nothing'})`);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
