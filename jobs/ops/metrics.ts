/**
 * `metrics`: a long-running exporter serving the lake report (lake-state.ts) as Prometheus text on
 * GET /metrics, and 200 on /healthz. A scrape is answered at once from the state a LakeMonitor keeps
 * up to date in the background (a scrape never waits on Kafka or the lake: a Kafka that does not
 * answer shows as `lakehouse_kafka_up 0`, not as an exporter that times out); a part that cannot be
 * read gives `lakehouse_up 0` and one log line, never a crash. SIGTERM is its normal stop: it closes
 * the server and ends `finished`.
 */
import http from 'node:http';
import type { JobContext } from '../job.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { LakeMonitor } from './lake-monitor.ts';
import { formatFamilies, metricFamilies, PROMETHEUS_CONTENT_TYPE, upFamily } from './prometheus.ts';

export interface MetricsSummary {
  readonly port: number;
  readonly scrapes: number;
}

/** The exposition text of the monitor's current report. */
async function exposition(monitor: LakeMonitor, logger: Logger): Promise<string> {
  try {
    return formatFamilies(metricFamilies(await monitor.report()));
  } catch (error) {
    logger.warn('lakehouse_up 0: the report could not be formatted', { error: (error as Error).message });
    return formatFamilies([upFamily(false)]);
  }
}

export async function runMetrics(config: Config, logger: Logger, context: JobContext): Promise<MetricsSummary> {
  const monitor = new LakeMonitor(config, logger);
  let scrapes = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://exporter');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (url.pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    } else if (url.pathname === '/metrics') {
      scrapes++;
      void exposition(monitor, logger).then((body) =>
        response
          .writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE })
          .end(request.method === 'HEAD' ? undefined : body),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, () => {
      server.off('error', reject);
      resolve();
    });
  });
  monitor.start();
  logger.info('serving metrics', { port: config.metricsPort, path: '/metrics' });
  await new Promise<void>((resolve) => {
    context.onStop(() => {
      monitor.stop();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return { port: config.metricsPort, scrapes };
}
