/**
 * JSON that keeps Iceberg's 64-bit ids exact: Java writers pick snapshot ids anywhere in the long
 * range, beyond what a JavaScript number holds. Snapshot ids and other integers past 2^53 are read as
 * bigint, and bigint is written back as a plain JSON number (Node.js 22: reviver source text and
 * JSON.rawJSON).
 */
type Reviver = (key: string, value: unknown, context?: { source?: string }) => unknown;
const rawJSON = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;

const reviver: Reviver = (key, value, context) => {
  // Snapshot ids are always bigint, however small, so that ids compare equal wherever they come from
  // (metadata, manifests, summaries): 5 === 5n is false.
  if (typeof value === 'number' && Number.isInteger(value) && key.endsWith('snapshot-id'))
    return BigInt(context?.source ?? value);
  if (typeof value !== 'number' || Number.isSafeInteger(value) || !Number.isInteger(value)) return value;
  if (context?.source === undefined)
    throw new Error('reading Iceberg metadata needs Node.js 22 or newer (JSON source text access)');
  return BigInt(context.source);
};

export function parseJson(text: string): unknown {
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}

export function stringifyJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_key, v) => {
      if (typeof v !== 'bigint') return v;
      if (!rawJSON) throw new Error('writing Iceberg metadata needs Node.js 22 or newer (JSON.rawJSON)');
      return rawJSON(v.toString());
    },
    indent,
  );
}
