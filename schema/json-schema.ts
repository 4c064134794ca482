// The values model as JSON Schema draft-07, the dialect both Helm 3.19+ and Helm 4 validate.
import { nodeAt, type Expectation, type Node, type ObjectNode, type ValueRule } from './define.ts';

export const KUBERNETES_QUANTITY_PATTERN =
  '^[+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$';

export type JsonSchema = Record<string, unknown>;

const GLOBAL = { type: 'object', description: 'Values Helm shares with subcharts (unused here).' };

/** `subcharts`: the top-level keys holding a dependency chart's values, where Helm adds `global` too. */
export function toJsonSchema(root: ObjectNode, opts: { subcharts?: readonly string[] } = {}): JsonSchema {
  const schema = nodeSchema(root) as Record<string, unknown>;
  const properties = schema.properties as Record<string, JsonSchema>;
  // Helm passes global values to every chart; they are not ours to restrict.
  properties.global = GLOBAL;
  for (const key of opts.subcharts ?? []) {
    const section = properties[key] as { properties?: Record<string, JsonSchema> } | undefined;
    if (!section?.properties) throw new Error(`schema: subchart values "${key}" are not an object of the model`);
    section.properties.global = GLOBAL;
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'lakehouse chart values',
    ...schema,
  };
}

function nodeSchema(node: Node, withDefault = true): JsonSchema {
  const described = { description: node.description };
  switch (node.kind) {
    case 'string':
      return compact({
        type: 'string',
        ...described,
        enum: node.enum,
        pattern: node.pattern,
        minLength: node.minLength,
        maxLength: node.maxLength,
        default: withDefault ? node.default : undefined,
      });
    case 'quantity':
      return {
        type: ['string', 'number'],
        ...described,
        pattern: KUBERNETES_QUANTITY_PATTERN,
        ...(withDefault ? { default: node.default } : {}),
      };
    case 'integer':
    case 'number':
      return compact({
        type: node.kind,
        ...described,
        minimum: node.minimum,
        maximum: node.maximum,
        default: withDefault ? node.default : undefined,
      });
    case 'boolean':
      return compact({ type: 'boolean', ...described, default: withDefault ? node.default : undefined });
    case 'stringMap':
      return { type: 'object', ...described, additionalProperties: { type: 'string' } };
    case 'passThrough':
      return { type: 'object', ...described };
    case 'list':
      return compact({
        type: 'array',
        ...described,
        items: nodeSchema(node.items, false),
        minItems: node.minItems,
        uniqueItems: node.uniqueItems,
      });
    case 'object':
      return objectSchema(node, withDefault);
  }
}

function objectSchema(node: ObjectNode, withDefault: boolean): JsonSchema {
  const properties = Object.fromEntries(
    Object.entries(node.fields).map(([key, child]) => [key, nodeSchema(child, withDefault)]),
  );
  const rule = node.requireWhen;
  return compact({
    type: 'object',
    description: node.description,
    additionalProperties: false,
    required: node.required && node.required.length > 0 ? [...node.required] : undefined,
    properties,
    ...(rule
      ? {
          if: { properties: { [rule.field]: { const: rule.equals } }, required: [rule.field] },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
          then: {
            required: [...rule.require],
            properties: Object.fromEntries(rule.require.map((name) => [name, { minLength: 1 }])),
          },
        }
      : {}),
    ...(node.rules?.length ? { allOf: node.rules.map((r) => ruleSchema(node, r)) } : {}),
  });
}

/** A schema that constrains the value at a dotted path, leaving everything else open. */
function atPath(path: string, leaf: JsonSchema): JsonSchema {
  return path
    .split('.')
    .reverse()
    .reduce<JsonSchema>((inner, key) => ({ properties: { [key]: inner }, required: [key] }), leaf);
}

/** Merges path schemas (atPath) into one. */
function merged(schemas: readonly JsonSchema[]): JsonSchema {
  const out: { properties?: Record<string, JsonSchema>; required?: string[] } & JsonSchema = {};
  for (const s of schemas as { properties?: Record<string, JsonSchema>; required?: string[] }[]) {
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      out.properties ??= {};
      out.properties[key] = key in out.properties ? merged([out.properties[key]!, inner]) : inner;
    }
    for (const key of s.required ?? []) if (!out.required?.includes(key)) (out.required ??= []).push(key);
    for (const [key, value] of Object.entries(s)) if (key !== 'properties' && key !== 'required') out[key] = value;
  }
  return out;
}

function expectationSchema(node: Node, path: string, expected: Expectation): JsonSchema {
  if (typeof expected === 'object') return { const: expected.equals };
  if (node.kind === 'boolean') return { const: expected === 'set' };
  if (node.kind !== 'string') throw new Error(`schema: a rule expects ${path} (${node.kind}) to be ${expected}`);
  return expected === 'set' ? { minLength: 1 } : { const: '' };
}

function ruleSchema(root: ObjectNode, rule: ValueRule): JsonSchema {
  const node = (path: string): Node => {
    const found = nodeAt(root, path);
    if (!found) throw new Error(`schema: a rule names ${path}, which is no value`);
    return found;
  };
  for (const path of Object.keys(rule.when)) node(path);
  return {
    if: merged(Object.entries(rule.when).map(([path, value]) => atPath(path, { const: value }))),
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
    then: merged(
      Object.entries(rule.expect).map(([path, expected]) =>
        atPath(path, expectationSchema(node(path), path, expected)),
      ),
    ),
  };
}

function compact(o: Record<string, unknown>): JsonSchema {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
