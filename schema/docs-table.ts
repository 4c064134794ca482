// One row per value, for the chart README.
import { leaves, type Node, type ObjectNode } from './define.ts';

export interface ValueRow {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

export function valueRows(root: ObjectNode): ValueRow[] {
  return [...leaves(root)].map(([path, node]) => ({
    path: path.join('.'),
    type: typeName(node),
    default: JSON.stringify(node.kind === 'object' ? {} : node.default),
    description: node.description,
  }));
}

function typeName(node: Node): string {
  switch (node.kind) {
    case 'list':
      return `list of ${typeName(node.items)}`;
    case 'stringMap':
      return 'map of string';
    case 'passThrough':
      return 'object';
    case 'string':
      return node.enum ? node.enum.map((v) => JSON.stringify(v)).join(' \\| ') : 'string';
    default:
      return node.kind;
  }
}
