// The values model as JSON Schema draft-07, the dialect both Helm 3.19+ and Helm 4 validate.
import type { Node, ObjectNode } from './define.ts';

export const KUBERNETES_QUANTITY_PATTERN =
  '^[+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$';

export type JsonSchema = Record<string, unknown>;

export function toJsonSchema(root: ObjectNode): JsonSchema {
  const schema = nodeSchema(root) as Record<string, unknown>;
  const properties = schema.properties as Record<string, JsonSchema>;
  // Helm passes global values to every chart; they are not ours to restrict.
  properties.global = { type: 'object', description: 'Values shared with subcharts (unused here).' };
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
  });
}

function compact(o: Record<string, unknown>): JsonSchema {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
