import { createLogger } from '../../jobs/log.ts';
import type { PipelineView } from './view.ts';

/** Every job's JSON lines as they come, and the runner's own events as JSON lines of job `local`. */
export function jsonView(write: (line: string) => void = (line) => process.stdout.write(line + '\n')): PipelineView {
  const logger = createLogger('local', write, undefined, 'json');
  return {
    lake: (dir) => logger.info('lake', { dir }),
    brokerStarting: () => logger.info('starting a local Kafka broker'),
    brokerUp: (bootstrap, seconds) => logger.info('kafka is up', { bootstrap, seconds }),
    stageStarted: () => {},
    jobStdout: write,
    jobStderr: (line) => process.stderr.write(line + '\n'),
    stageEnded: () => {},
    abandoned: (run, lake) => logger.error('failed', { ok: false, stage: run.job, exitCode: run.exitCode, lake }),
    finished: ({ lake, gold, runs }) => {
      logger.info('gold', { show: gold.split('\n') });
      logger.info('finished', { ok: true, lake, jobs: runs });
    },
    close: () => {},
  };
}
