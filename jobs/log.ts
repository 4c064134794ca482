/**
 * One JSON object per line on stdout, so `kubectl logs` and log shippers can read it; the same
 * records as readable lines (log-text.ts) when the format is `text`.
 */
import type { LogFormat } from './config.ts';
import { ConfigError } from './errors.ts';
import { formatText } from './log-text.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  readonly job: string;
  log(level: Level, msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** LAKEHOUSE_LOG_LEVEL, when set, must be a level: a typo would otherwise silently log at info. */
export function checkLogLevel(env: NodeJS.ProcessEnv = process.env): void {
  const level = env.LAKEHOUSE_LOG_LEVEL;
  if (level !== undefined && level !== '' && !(level in order)) {
    throw new ConfigError('LAKEHOUSE_LOG_LEVEL', `"${level}" is not one of ${Object.keys(order).join(', ')}`);
  }
}

export function createLogger(
  job: string,
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
  minLevel: Level = (process.env.LAKEHOUSE_LOG_LEVEL as Level) in order
    ? (process.env.LAKEHOUSE_LOG_LEVEL as Level)
    : 'info',
  format: LogFormat = 'json',
): Logger {
  const log = (level: Level, msg: string, fields: Fields = {}) => {
    if (order[level] < order[minLevel]) return;
    const record = { time: new Date().toISOString(), level, job, msg, ...fields };
    write(format === 'text' ? formatText(record) : JSON.stringify(record, jsonSafe));
  };
  return {
    job,
    log,
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
