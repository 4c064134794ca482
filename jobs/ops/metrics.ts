/**
 * `metrics`: a long-running exporter serving the lake report (lake-state.ts) as Prometheus text on
 * GET /metrics, and 200 on /healthz. Each scrape recomputes the report unless one is less than
 * `cacheMs` old; a lake or Kafka that cannot be read gives `lakehouse_up 0` and one log line, never
 * a crash. SIGTERM is its normal stop: it closes the server and ends `finished`.
 */
import http from 'node:http';
import type { JobContext } from '../job.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { lakeReport } from './lake-state.ts';
import { formatFamilies, metricFamilies, PROMETHEUS_CONTENT_TYPE, upFamily } from './prometheus.ts';
import { RunHistory } from './run-history.ts';

const cacheMs = 5_000;

export interface MetricsSummary {
  readonly port: number;
  readonly scrapes: number;
}

/** The exposition text, recomputed at most every `cacheMs`; concurrent scrapes share one computation. */
function exposition(config: Config, logger: Logger): () => Promise<string> {
  const history = new RunHistory();
  let cached: { at: number; text: Promise<string> } | undefined;
  let lastProblem = '';
  const compute = async (): Promise<string> => {
    try {
      const report = await lakeReport(config, history, logger.job);
      const problem = [report.lakeError, report.kafka.ok ? undefined : report.kafka.error].filter(Boolean).join('; ');
      if (problem) logger.warn('lakehouse_up 0: could not read the lake or Kafka', { error: problem });
      else if (lastProblem) logger.info('lakehouse_up 1: the lake and Kafka are readable again');
      lastProblem = problem;
      return formatFamilies(metricFamilies(report));
    } catch (error) {
      logger.warn('lakehouse_up 0: the report could not be computed', { error: (error as Error).message });
      lastProblem = (error as Error).message;
      return formatFamilies([upFamily(false)]);
    }
  };
  return () => {
    if (!cached || Date.now() - cached.at >= cacheMs) cached = { at: Date.now(), text: compute() };
    return cached.text;
  };
}

export async function runMetrics(config: Config, logger: Logger, context: JobContext): Promise<MetricsSummary> {
  const text = exposition(config, logger);
  let scrapes = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://exporter');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (url.pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    } else if (url.pathname === '/metrics') {
      scrapes++;
      void text().then((body) =>
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
  logger.info('serving metrics', { port: config.metricsPort, path: '/metrics' });
  await new Promise<void>((resolve) => {
    context.onStop(() => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return { port: config.metricsPort, scrapes };
}
