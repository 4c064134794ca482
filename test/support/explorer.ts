/** `explore` started as its own process (as the chart's Deployment runs it) on a free port. */
import * as assert from 'uvu/assert';
import { freePort } from './exporter.ts';
import { describeFailure, runJob } from './lake.ts';

export interface RunningExplorer {
  /** http://127.0.0.1:<port> */
  readonly base: string;
  /** SIGTERM, then asserts it finished well. */
  stop(): Promise<void>;
}

/** Starts `explore` with `env` (the lake's settings); Kafka nowhere, so freshness says it is unreachable. */
export async function startExplorer(env: Record<string, string>): Promise<RunningExplorer> {
  const port = await freePort();
  let pid = 0;
  let serving!: () => void;
  const ready = new Promise<void>((resolve) => (serving = resolve));
  const done = runJob(
    'explore',
    {
      LAKEHOUSE_KAFKA_SECURITY: 'plaintext',
      KAFKA_BOOTSTRAP_SERVER: '127.0.0.1:1',
      LAKEHOUSE_KAFKA_WAIT_SECONDS: '1',
      ...env,
    },
    ['--port', String(port)],
    (line, child) => {
      pid = child.pid!;
      if (line.msg === 'serving the explorer') serving();
    },
  );
  await Promise.race([
    ready,
    done.then((o) => assert.unreachable(`explore ended before serving: ${describeFailure(o)}`)),
  ]);
  return {
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      process.kill(pid, 'SIGTERM');
      const outcome = await done;
      assert.is(outcome.exitCode, 0, describeFailure(outcome));
    },
  };
}
