// npm run broker -- start|stop|status
//   start   starts a detached broker (or finds the running one); last stdout line is its bootstrap
//   status  "running <bootstrap>" (exit 0) or "not running" (exit 1)
//   stop    stops it and removes its data dir
import { brokerRunning, startBroker, stopBroker } from './broker.ts';
import { brokerTls } from './tls.ts';
import { credentialsDir } from './users.ts';
import { clearState, readState, stateFilePath, writeState } from './state-file.ts';

async function start(): Promise<void> {
  const existing = readState();
  if (existing && brokerRunning(existing)) {
    console.log(`broker already running (pid ${existing.pid}, data ${existing.dataDir})`);
    console.log(existing.bootstrap);
    return;
  }
  if (existing) await stopBroker(existing); // stale record: clean its directory
  const broker = await startBroker({ detached: true });
  writeState(broker);
  console.log(
    `broker started in ${broker.readyMs} ms (pid ${broker.pid}, data ${broker.dataDir}, log ${broker.dataDir}/broker.log)`,
  );
  console.log(
    `TLS and SCRAM-SHA-512: CA ${brokerTls().caFile}, passwords in ${credentialsDir(broker.dataDir)}; jobs run by npm run local, npm run lakehouse and the tests sign in by themselves`,
  );
  console.log(broker.bootstrap);
}

async function stop(): Promise<void> {
  const existing = readState();
  if (!existing) {
    console.log('broker not running (no state file)');
    return;
  }
  const wasRunning = brokerRunning(existing);
  await stopBroker(existing);
  clearState();
  console.log(wasRunning ? `broker stopped (pid ${existing.pid})` : 'broker was not running; removed its state');
}

function status(): void {
  const existing = readState();
  if (existing && brokerRunning(existing)) {
    console.log(`running ${existing.bootstrap} (pid ${existing.pid}, state ${stateFilePath()})`);
    return;
  }
  console.log('not running');
  process.exitCode = 1;
}

const command = process.argv[2];
try {
  if (command === 'start') await start();
  else if (command === 'stop') await stop();
  else if (command === 'status') status();
  else {
    console.error(`usage: npm run broker -- start|stop|status (got ${command ?? 'nothing'})`);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
