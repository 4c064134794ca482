// A Binder hands an emitter either the default values (to build a real object that kubernetes-models
// can validate) or tokens (to build the same object with holes that become Go-template expressions).
// Both runs go through the same emitter code, so the template and the validated object cannot drift.
import { defaultsOf, nodeAt, valuesModel, type ObjectNode } from '../schema/index.ts';

export type TokenKind =
  | 'inline' // `{{ expr }}`, or `{{ expr | quote }}` when the token is the whole scalar and quote is set
  | 'block' // `key:` followed by `{{- expr | nindent N }}`
  | 'with' // the key only when expr is non-empty: `{{- with expr }} key: {{- toYaml . | nindent N }} {{- end }}`
  | 'items' // list items spliced in from expr: `{{- with expr }}{{- toYaml . | nindent N }}{{- end }}`
  | 'open' // `{{- if expr }}` in place of a list item or a map key
  | 'close'; // `{{- end }}`

export interface Token {
  readonly kind: TokenKind;
  readonly expr: string;
  readonly quote?: boolean;
}

export interface Binder {
  readonly mode: 'defaults' | 'template';
  /** A value as a string (env values, names): `{{ .Values.path | quote }}`. */
  str(path: string): string;
  /** A number value used as a number: `{{ .Values.path }}`. */
  int(path: string): number;
  /** An arbitrary Go-template expression standing for a string; `def` is its value with defaults. */
  expr(goExpr: string, def: string, opts?: { quote?: boolean }): string;
  /** A number-typed Go-template expression. */
  intExpr(goExpr: string, def: number): number;
  /** An object or list written with `toYaml` (or an `include`) under its key. */
  block<T>(goExpr: string, def: T): T;
  /** A value path written with toYaml under its key, the key left out when the value is empty. */
  withValue<T>(path: string, fallback: T): T | undefined;
  /** List items from a values list appended where this is spread. */
  items<T>(path: string): T[];
  /** Items kept only when `goCond` is true; `on` is whether it is true with the default values. */
  when<T>(goCond: string, on: boolean, items: T[]): T[];
  /** Map entries kept only when `goCond` is true. */
  whenKeys<T extends object>(goCond: string, on: boolean, entries: T): Partial<T>;
  /** A Go-template condition; records the values it reads. */
  cond(goExpr: string): string;
  /** The default value at a path (for decisions the emitter makes with the defaults). */
  defaultOf<T>(path: string): T;
  /** Every values path this binder was asked about. */
  readonly usedPaths: ReadonlySet<string>;
  /** Tokens created so far (template mode). */
  readonly tokens: ReadonlyMap<string, Token>;
}

export const TOKEN_PATTERN = /__LH(\d+)__/g;

/** `model`: the values of the chart being generated (the lakehouse chart's, or its object store's). */
export function createBinder(mode: 'defaults' | 'template', model: ObjectNode = valuesModel): Binder {
  const defaults = defaultsOf(model) as Record<string, unknown>;
  const lookupDefault = (path: string): unknown => {
    if (!nodeAt(model, path)) throw new Error(`generator: unknown values path "${path}" (not in the values model)`);
    return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], defaults);
  };
  // Helm reads numbers from YAML as float64, which prints 1e+06 for a million: integers are converted.
  const valueExpr = (path: string) =>
    nodeAt(model, path)?.kind === 'integer' ? `.Values.${path} | int64` : `.Values.${path}`;
  const usedPaths = new Set<string>();
  const tokens = new Map<string, Token>();
  const use = (path: string) => {
    usedPaths.add(path);
    return lookupDefault(path);
  };
  // Expressions are read for their value paths in both modes, so a misspelt path fails either way.
  const track = (goExpr: string) => {
    for (const [, path] of goExpr.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)) use(path);
    return goExpr;
  };
  const token = (t: Token): string => {
    const name = `__LH${tokens.size}__`;
    tokens.set(name, t);
    return name;
  };
  const isTemplate = mode === 'template';
  // Tokens stand in for values of other types in template mode; the cast is the point of the design.
  const as = <T>(x: unknown) => x as T;

  return {
    mode,
    usedPaths,
    tokens,
    str(path) {
      const def = use(path);
      return isTemplate ? token({ kind: 'inline', expr: valueExpr(path), quote: true }) : String(def);
    },
    int(path) {
      const def = use(path);
      if (typeof def !== 'number') throw new Error(`generator: ${path} is not a number`);
      return isTemplate ? as<number>(token({ kind: 'inline', expr: valueExpr(path) })) : def;
    },
    expr(goExpr, def, opts = {}) {
      track(goExpr);
      return isTemplate ? token({ kind: 'inline', expr: goExpr, quote: opts.quote }) : def;
    },
    intExpr(goExpr, def) {
      track(goExpr);
      return isTemplate ? as<number>(token({ kind: 'inline', expr: goExpr })) : def;
    },
    block(goExpr, def) {
      track(goExpr);
      return isTemplate ? as(token({ kind: 'block', expr: goExpr })) : def;
    },
    withValue(path, fallback) {
      const def = use(path);
      if (isTemplate) return as(token({ kind: 'with', expr: `.Values.${path}` }));
      const empty = def === undefined || (typeof def === 'object' && def !== null && Object.keys(def).length === 0);
      return empty ? undefined : as(def ?? fallback);
    },
    items(path) {
      const def = use(path);
      return isTemplate ? [as(token({ kind: 'items', expr: `.Values.${path}` }))] : as(def);
    },
    when(goCond, on, items) {
      track(goCond);
      if (!isTemplate) return on ? items : [];
      return [as(token({ kind: 'open', expr: goCond })), ...items, as(token({ kind: 'close', expr: goCond }))];
    },
    whenKeys(goCond, on, entries) {
      track(goCond);
      if (!isTemplate) return on ? entries : {};
      const open = token({ kind: 'open', expr: goCond });
      const close = token({ kind: 'close', expr: goCond });
      return as({ [open]: null, ...entries, [close]: null });
    },
    cond: track,
    defaultOf(path) {
      return as(use(path));
    },
  };
}
