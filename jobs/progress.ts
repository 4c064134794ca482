import type { Logger } from './log.ts';

/**
 * Returns a function to call with the running count; it logs at most every few seconds (and at the
 * end), with the rate, so a long job shows it is alive without flooding `kubectl logs`.
 */
export function progressReporter(
  logger: Logger,
  what: string,
  total?: number,
  everyMs = 5_000,
): (done: number) => void {
  const start = Date.now();
  let last = start;
  return (done: number) => {
    const now = Date.now();
    if (now - last < everyMs && done !== total) return;
    last = now;
    const seconds = (now - start) / 1000;
    logger.info('progress', {
      [what]: done,
      ...(total !== undefined ? { total, percent: total ? Math.round((done / total) * 1000) / 10 : 100 } : {}),
      perSecond: seconds > 0 ? Math.round(done / seconds) : null,
    });
  };
}
