// values.yaml with the description of every value written as a comment above it.
import { stringify } from 'yaml';
import type { Node, ObjectNode } from './define.ts';

const header = (chart: string, source: string) => [
  `# Default values of the ${chart} chart.`,
  `# Generated from ${source} by \`npm run generate\`; edit that file, not this one.`,
  '# values.schema.json (generated from the same definition) rejects unknown keys and bad values.',
  '',
];

export function toValuesYaml(root: ObjectNode, chart = 'lakehouse', source = 'schema/values.ts'): string {
  return [...header(chart, source), ...objectLines(root, 0)].join('\n') + '\n';
}

function objectLines(node: ObjectNode, depth: number): string[] {
  const indent = '  '.repeat(depth);
  const lines: string[] = [];
  for (const [key, child] of Object.entries(node.fields)) {
    if (depth === 0 && lines.length > 0) lines.push('');
    lines.push(...wrapComment(child.description, indent));
    if (child.kind === 'object') {
      lines.push(`${indent}${key}:`, ...objectLines(child, depth + 1));
    } else {
      lines.push(...leafLines(key, child, indent));
    }
  }
  return lines;
}

function leafLines(key: string, node: Exclude<Node, ObjectNode>, indent: string): string[] {
  const value = node.default;
  const isEmptyContainer = typeof value === 'object' && value !== null && Object.keys(value).length === 0;
  if (typeof value !== 'object' || value === null || isEmptyContainer) {
    return [`${indent}${key}: ${scalar(value)}`];
  }
  const block = stringify(value, { indent: 2 }).trimEnd().split('\n');
  return [`${indent}${key}:`, ...block.map((line) => `${indent}  ${line}`)];
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return stringify(value, { flow: true }).trim();
}

function wrapComment(text: string, indent: string, width = 100): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && indent.length + 2 + current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return lines.map((line) => `${indent}# ${line}`);
}
