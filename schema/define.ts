// A tiny typed DSL for the chart's values: every node carries its default, its description and its
// constraints, so the Values type, values.yaml and values.schema.json can all be derived from it.

export interface Described {
  readonly description: string;
}

export interface StringNode<T extends string = string> extends Described {
  readonly kind: 'string';
  readonly default: T;
  readonly pattern?: string;
  readonly patternName?: string;
  readonly enum?: readonly T[];
  readonly minLength?: number;
  readonly maxLength?: number;
}

export interface QuantityNode extends Described {
  readonly kind: 'quantity';
  readonly default: string;
}

export interface NumberNode extends Described {
  readonly kind: 'integer' | 'number';
  readonly default: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

export interface BooleanNode extends Described {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export interface ObjectNode<S extends Shape = Shape> extends Described {
  readonly kind: 'object';
  readonly fields: S;
  /** Field names that must be present (used for list items; top-level values always have defaults). */
  readonly required?: readonly string[];
  /** `if <field> == <equals> then <require> must be present and non-empty`. */
  readonly requireWhen?: RequireWhen<string>;
  /** Rules across its fields, at any depth (dotted paths from this object). */
  readonly rules?: readonly ValueRule[];
}

/** What a rule asks of a value: non-empty, empty (a string) or false (a boolean), or one value. */
export type Expectation = 'set' | 'unset' | { readonly equals: string | boolean | number };

/** When every `when` path holds its value, every `expect` path must meet its expectation. */
export interface ValueRule {
  readonly when: Readonly<Record<string, string | boolean | number>>;
  readonly expect: Readonly<Record<string, Expectation>>;
}

export interface RequireWhen<K extends string> {
  readonly field: K;
  readonly equals: boolean | string | number;
  readonly require: readonly K[];
}

export interface ListNode<I extends Node = Node> extends Described {
  readonly kind: 'list';
  readonly items: I;
  readonly default: readonly unknown[];
  readonly minItems?: number;
  readonly uniqueItems?: boolean;
}

/** A map of string keys to string values (nodeSelector, annotations). */
export interface StringMapNode extends Described {
  readonly kind: 'stringMap';
  readonly default: Readonly<Record<string, string>>;
}

/** A Kubernetes object passed through as it is (affinity, valueFrom). */
export interface PassThroughNode extends Described {
  readonly kind: 'passThrough';
  readonly default: Readonly<Record<string, unknown>>;
}

export type Node =
  | StringNode
  | QuantityNode
  | NumberNode
  | BooleanNode
  | ObjectNode
  | ListNode
  | StringMapNode
  | PassThroughNode;

export type Shape = { readonly [key: string]: Node };

type Opts<N> = Omit<N, 'kind' | 'default' | 'description'>;

export function string(def: string, description: string, opts?: Omit<Opts<StringNode>, 'enum'>): StringNode;
export function string<const T extends string>(
  def: NoInfer<T>,
  description: string,
  opts: Opts<StringNode<T>> & { enum: readonly T[] },
): StringNode<T>;
export function string(def: string, description: string, opts: Opts<StringNode> = {}): StringNode {
  return { kind: 'string', default: def, description, ...opts };
}

export const quantity = (def: string, description: string): QuantityNode => ({
  kind: 'quantity',
  default: def,
  description,
});

export const integer = (def: number, description: string, opts: Opts<NumberNode> = {}): NumberNode => ({
  kind: 'integer',
  default: def,
  description,
  ...opts,
});

export const number = (def: number, description: string, opts: Opts<NumberNode> = {}): NumberNode => ({
  kind: 'number',
  default: def,
  description,
  ...opts,
});

export const boolean = (def: boolean, description: string): BooleanNode => ({
  kind: 'boolean',
  default: def,
  description,
});

/** An object; `required` and `requireWhen` may only name its own fields. */
export const object = <S extends Shape>(
  description: string,
  fields: S,
  opts: {
    required?: readonly (keyof S & string)[];
    requireWhen?: RequireWhen<keyof S & string>;
    rules?: readonly ValueRule[];
  } = {},
): ObjectNode<S> => ({ kind: 'object', description, fields, ...opts });

export const list = <I extends Node>(
  items: I,
  def: readonly unknown[],
  description: string,
  opts: { minItems?: number; uniqueItems?: boolean } = {},
): ListNode<I> => ({ ...opts, kind: 'list', items, default: def, description });

export const stringMap = (def: Record<string, string>, description: string): StringMapNode => ({
  kind: 'stringMap',
  default: def,
  description,
});

export const passThrough = (def: Record<string, unknown>, description: string): PassThroughNode => ({
  kind: 'passThrough',
  default: def,
  description,
});

/** The TypeScript type of the values a node accepts. */
export type Infer<N> =
  N extends ObjectNode<infer S>
    ? { [K in keyof S]: Infer<S[K]> }
    : N extends ListNode<infer I>
      ? (I extends ObjectNode ? Partial<Infer<I>> : Infer<I>)[]
      : N extends StringNode<infer T>
        ? T
        : N extends QuantityNode
          ? string
          : N extends NumberNode
            ? number
            : N extends BooleanNode
              ? boolean
              : N extends StringMapNode
                ? Record<string, string>
                : N extends PassThroughNode
                  ? Record<string, unknown>
                  : never;

/** Walks every leaf (anything that is not an object node) with its dotted path. */
export function* leaves(node: ObjectNode, prefix: readonly string[] = []): Generator<[string[], Node]> {
  for (const [key, child] of Object.entries(node.fields)) {
    const path = [...prefix, key];
    if (child.kind === 'object') yield* leaves(child, path);
    else yield [path, child];
  }
}

/** Looks a dotted path up in the model; undefined when it does not exist. */
export function nodeAt(root: ObjectNode, path: string): Node | undefined {
  let node: Node = root;
  for (const key of path.split('.')) {
    if (node.kind !== 'object') return undefined;
    const next: Node | undefined = node.fields[key];
    if (!next) return undefined;
    node = next;
  }
  return node;
}
