/**
 * How a setting's raw text becomes its value, by kind. A kind is data (`{ kind: 'integer', min, max }`)
 * so that the contract JSON carries it and the Spark engine's Python (lakehouse_config.py) implements
 * the same kinds with the same messages; test/spark/settings-parity.test.ts holds the two together.
 */
export type SettingKind =
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'ratio' }
  | { readonly kind: 'nonEmpty' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'topicName' }
  | { readonly kind: 'hostPortList' }
  | { readonly kind: 'nameList' }
  | { readonly kind: 'text' }
  | { readonly kind: 'httpUrl' }
  | { readonly kind: 'instant' }
  | { readonly kind: 'oneOf'; readonly values: readonly string[] };

/** The value each kind gives. */
export interface KindValues {
  readonly integer: number;
  readonly ratio: number;
  readonly nonEmpty: string;
  readonly boolean: boolean;
  readonly topicName: string;
  readonly hostPortList: readonly string[];
  readonly nameList: readonly string[];
  readonly text: string;
  readonly httpUrl: string;
  readonly instant: number;
  readonly oneOf: string;
}

export type KindName = SettingKind['kind'];

/** A raw value that its kind refuses; the message says why, without naming the setting. */
export class ParseError extends Error {}

type Parser<T> = (raw: string) => T;

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ParseError(`"${raw}" is not an integer`);
    const value = Number(raw);
    if (value < min || value > max) throw new ParseError(`${value} is outside ${min}..${max}`);
    return value;
  };

// Decimal notation only: JavaScript's Number() also reads 0x1 or 0b1, which nobody means as a share.
const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const ratio: Parser<number> = (raw) => {
  const value = Number(raw);
  if (!decimal.test(raw.trim()) || !Number.isFinite(value)) throw new ParseError(`"${raw}" is not a decimal number`);
  if (value < 0 || value > 1) throw new ParseError(`${value} is outside 0..1`);
  return value;
};

const nonEmpty: Parser<string> = (raw) => {
  if (raw.trim() === '') throw new ParseError('must not be empty');
  return raw.trim();
};

const boolean: Parser<boolean> = (raw) => {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ParseError(`"${raw}" is not true or false`);
};

// Kafka's own rule for topic names (kafka.common.internals.Topic).
const topicName: Parser<string> = (raw) => {
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(raw) || raw === '.' || raw === '..') {
    throw new ParseError(`"${raw}" is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)`);
  }
  return raw;
};

const hostPortList: Parser<readonly string[]> = (raw) => {
  const servers = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0) throw new ParseError('must name at least one host:port');
  for (const server of servers) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(server);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ParseError(`"${server}" is not host:port`);
    }
  }
  return servers;
};

/** What a name in a nameList may be (the chart's values schema checks the same pattern). */
export const LOWERCASE_NAME_PATTERN = '^[a-z][a-z0-9_-]*$';
const lowercaseName = new RegExp(LOWERCASE_NAME_PATTERN);

/** Comma-separated distinct lowercase names (vehicle types, say); blanks around a name are dropped. */
const nameList: Parser<readonly string[]> = (raw) => {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new ParseError('must name at least one');
  for (const [i, name] of names.entries()) {
    if (!lowercaseName.test(name)) {
      throw new ParseError(`"${name}" is not a lowercase name (a-z, then a-z 0-9 _ -)`);
    }
    if (names.indexOf(name) < i) throw new ParseError(`"${name}" is named twice`);
  }
  return names;
};

/** Any text, blanks around it dropped; empty means unset (an optional name, key or path). */
const text: Parser<string> = (raw) => raw.trim();

/** An http(s) URL of a server (no query or fragment), or empty for unset; a trailing slash is dropped. */
const httpUrl: Parser<string> = (raw) => {
  const value = raw.trim();
  if (value === '') return '';
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$/.test(value))
    throw new ParseError(`"${raw}" is not an http:// or https:// URL of a server`);
  return value.replace(/\/+$/, '');
};

/** ISO 8601 with a zone, epoch milliseconds, or `now` (so that each produce run adds later events). */
const instant =
  (now: () => number): Parser<number> =>
  (raw) => {
    const text = raw.trim();
    if (text === 'now') return now();
    if (/^\d{1,16}$/.test(text)) return Number(text);
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
      const ms = Date.parse(text);
      if (Number.isFinite(ms)) return ms;
    }
    throw new ParseError(
      `"${raw}" is not now, epoch milliseconds or an ISO 8601 time with a zone (2023-10-13T13:20:00Z)`,
    );
  };

/** One of a few words, exactly (a mode, say). */
const oneOf =
  (values: readonly string[]): Parser<string> =>
  (raw) => {
    const text = raw.trim();
    if (!values.includes(text)) throw new ParseError(`"${raw}" is not one of ${values.join(', ')}`);
    return text;
  };

/** The parser of a kind; `now` is what `instant` gives for `now`. */
export function parserOf<K extends SettingKind>(spec: K, now: () => number = Date.now): Parser<KindValues[K['kind']]> {
  const parsers: { readonly [N in KindName]: () => Parser<KindValues[N]> } = {
    integer: () => {
      const { min, max } = spec as Extract<SettingKind, { kind: 'integer' }>;
      return integer(min, max);
    },
    ratio: () => ratio,
    nonEmpty: () => nonEmpty,
    boolean: () => boolean,
    topicName: () => topicName,
    hostPortList: () => hostPortList,
    nameList: () => nameList,
    text: () => text,
    httpUrl: () => httpUrl,
    instant: () => instant(now),
    oneOf: () => oneOf((spec as Extract<SettingKind, { kind: 'oneOf' }>).values),
  };
  return parsers[spec.kind]() as Parser<KindValues[K['kind']]>;
}
