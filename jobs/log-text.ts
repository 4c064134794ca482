/** Log records as lines for a person at a terminal: `12:00:01 WARN  bronze  message  key=value …`. */
export type LogRecord = Record<string, unknown>;

const MAX_VALUE_CHARS = 160;
const labels: Record<string, string> = { debug: 'debug', info: 'info ', warn: 'WARN ', error: 'ERROR' };

export function formatText(record: LogRecord): string {
  const { time, level, job, msg, ...fields } = record;
  const head = [clock(time), labels[String(level)] ?? String(level), String(job ?? '')];
  return [...head, describe(String(msg ?? ''), fields)].join('  ');
}

/**
 * The message and its fields; `progress`, `finished` and `failed` read as sentences. Stack traces
 * are left to the JSON format.
 */
function describe(msg: string, { stack: _stack, trace: _trace, ...fields }: LogRecord): string {
  if (msg === 'progress') return `progress ${progressText(fields)}`;
  if (msg === 'finished') {
    const { ok: _ok, seconds, peakRssBytes, result, ...rest } = fields;
    return joinParts(
      `finished in ${Number(seconds).toFixed(2)} s${memory(peakRssBytes)}`,
      pairs({ ...rest, ...asFields(result) }),
    );
  }
  if (msg === 'failed') {
    const { ok: _ok, error, seconds: _s, peakRssBytes: _p, ...rest } = fields;
    return joinParts(`failed: ${String(error ?? 'unknown error')}`, pairs(rest));
  }
  return joinParts(msg, pairs(fields));
}

/** `18,000/30,000 read (60%), 12,345/s` from the fields of a progress record. */
function progressText(fields: LogRecord): string {
  const { total, percent, perSecond, engine: _engine, ...counted } = fields;
  const [unit, done] = Object.entries(counted).find(([, v]) => typeof v === 'number') ?? ['done', undefined];
  const count =
    total !== undefined ? `${formatCount(done)}/${formatCount(total)} ${unit}` : `${formatCount(done)} ${unit}`;
  const share = percent !== undefined ? ` (${percent}%)` : '';
  const rate = typeof perSecond === 'number' ? `, ${formatCount(perSecond)}/s` : '';
  return count + share + rate;
}

export function formatCount(value: unknown): string {
  return typeof value === 'number' ? value.toLocaleString('en-US') : String(value ?? '?');
}

function pairs(fields: LogRecord): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${valueText(v)}`)
    .join(' ');
}

function valueText(value: unknown): string {
  const text =
    typeof value === 'string' && !/\s/.test(value) && value !== '' ? value : JSON.stringify(value, bigintSafe);
  return text.length > MAX_VALUE_CHARS ? text.slice(0, MAX_VALUE_CHARS - 1) + '…' : text;
}

function asFields(result: unknown): LogRecord {
  if (result === undefined || result === null) return {};
  return typeof result === 'object' && !Array.isArray(result) ? (result as LogRecord) : { result };
}

function memory(bytes: unknown): string {
  return typeof bytes === 'number' && Number.isFinite(bytes) ? `, peak ${Math.round(bytes / 2 ** 20)} MiB` : '';
}

function clock(time: unknown): string {
  const date = new Date(String(time));
  return Number.isNaN(date.getTime()) ? '--:--:--' : date.toTimeString().slice(0, 8);
}

const joinParts = (...parts: string[]) => parts.filter(Boolean).join('  ');
const bigintSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? Number(value) : value);
