// A tiny detached shell that SIGKILLs the broker JVM and removes its data dir if the owning Node
// process dies without stopping it (SIGKILL, crash, CI timeout): exit hooks cannot cover those.
import { spawn } from 'node:child_process';

export function guardAgainstOrphan(ownerPid: number, brokerPid: number, dataDir: string): void {
  // Polls once a second; ends by itself as soon as the broker is gone.
  const script = `
    while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
    if ! kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; then
      kill -9 "$2" 2>/dev/null; sleep 1; rm -rf -- "$3"
    fi`;
  const guard = spawn('sh', ['-c', script, 'broker-orphan-guard', String(ownerPid), String(brokerPid), dataDir], {
    detached: true,
    stdio: 'ignore',
  });
  guard.unref();
}
