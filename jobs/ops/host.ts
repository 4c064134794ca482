import os from 'node:os';

/** This run's host: the pod's name in a cluster (HOSTNAME), the machine's otherwise. */
export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOSTNAME?.trim() || os.hostname();
}
