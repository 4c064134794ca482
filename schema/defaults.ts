import type { Node, ObjectNode } from './define.ts';

/** The default value of a node: objects are built from their fields' defaults. */
export function defaultsOf(node: Node): unknown {
  if (node.kind === 'object') return objectDefaults(node);
  return structuredClone(node.default);
}

function objectDefaults(node: ObjectNode): Record<string, unknown> {
  return Object.fromEntries(Object.entries(node.fields).map(([key, child]) => [key, defaultsOf(child)]));
}
