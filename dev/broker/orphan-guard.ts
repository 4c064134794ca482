// A tiny detached shell that SIGKILLs a server (the broker's JVM, the object store) and removes its
// files if the owning Node process dies without stopping it (SIGKILL, crash, CI timeout): exit
// hooks cannot cover those.
import { spawn } from 'node:child_process';

export function guardAgainstOrphan(ownerPid: number, serverPid: number, ...paths: readonly string[]): void {
  // Polls once a second; ends by itself as soon as the server is gone.
  const script = `
    owner=$1 server=$2; shift 2
    while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
    if ! kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; then
      kill -9 "$server" 2>/dev/null; sleep 1; rm -rf -- "$@"
    fi`;
  const guard = spawn('sh', ['-c', script, 'orphan-guard', String(ownerPid), String(serverPid), ...paths], {
    detached: true,
    stdio: 'ignore',
  });
  guard.unref();
}
