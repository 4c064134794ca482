// Serialises a template-mode object with the yaml package, then turns its tokens into Go templates.
import { stringify } from 'yaml';
import { TOKEN_PATTERN, type Token } from './binder.ts';

export function renderTemplate(object: unknown, tokens: ReadonlyMap<string, Token>): string {
  const yaml = stringify(object, { lineWidth: 0, indent: 2, indentSeq: true, aliasDuplicateObjects: false });
  const lines = yaml
    .trimEnd()
    .split('\n')
    .flatMap((line) => expandLine(line, tokens));
  const leftover = lines.find((line) => TOKEN_PATTERN.test(line));
  TOKEN_PATTERN.lastIndex = 0;
  if (leftover) throw new Error(`generator: a token was left in the template: ${leftover}`);
  return lines.join('\n') + '\n';
}

const tokenOf = (name: string, tokens: ReadonlyMap<string, Token>): Token => {
  const t = tokens.get(name);
  if (!t) throw new Error(`generator: unknown token ${name}`);
  return t;
};

function expandLine(line: string, tokens: ReadonlyMap<string, Token>): string[] {
  // `key: TOKEN` where the token stands for a whole block.
  const keyed = /^(\s*)(- )?([^\s:]+): (__LH\d+__)$/.exec(line);
  if (keyed) {
    const [, indent, dash = '', key, name] = keyed;
    const t = tokenOf(name, tokens);
    const inner = indent + (dash ? '  ' : '') + '  ';
    if (t.kind === 'block') return [`${indent}${dash}${key}:`, `${inner}{{- ${t.expr} | nindent ${inner.length} }}`];
    if (t.kind === 'with') {
      const keyIndent = indent + (dash ? '  ' : '');
      if (dash) throw new Error(`generator: a "with" token cannot start a list item: ${line}`);
      return [
        `${keyIndent}{{- with ${t.expr} }}`,
        `${keyIndent}${key}:`,
        `${inner}{{- toYaml . | nindent ${inner.length} }}`,
        `${keyIndent}{{- end }}`,
      ];
    }
  }
  // `- TOKEN` (list item) or `TOKEN: null` (map key) that opens, closes or splices.
  const structural = /^(\s*)(?:- (__LH\d+__)|(__LH\d+__): null)$/.exec(line);
  if (structural) {
    const [, indent, itemName, keyName] = structural;
    const t = tokenOf(itemName ?? keyName, tokens);
    if (t.kind === 'open') return [`${indent}{{- if ${t.expr} }}`];
    if (t.kind === 'close') return [`${indent}{{- end }}`];
    if (t.kind === 'items' && itemName) {
      return [
        `${indent}{{- with ${t.expr} }}`,
        `${indent}{{- toYaml . | nindent ${indent.length} }}`,
        `${indent}{{- end }}`,
      ];
    }
  }
  return [replaceInline(line, tokens)];
}

function replaceInline(line: string, tokens: ReadonlyMap<string, Token>): string {
  // A token that is the whole scalar may be quoted by the template itself.
  const whole = /^(\s*(?:- )?(?:[^\s:]+: )?)(["']?)(__LH\d+__)\2$/.exec(line);
  if (whole) {
    const [, head, , name] = whole;
    const t = tokenOf(name, tokens);
    if (t.kind === 'inline') return `${head}{{ ${t.expr}${t.quote ? ' | quote' : ''} }}`;
  }
  return line.replace(TOKEN_PATTERN, (name) => {
    const t = tokenOf(name, tokens);
    if (t.kind !== 'inline') throw new Error(`generator: ${t.kind} token inside a scalar: ${line}`);
    return `{{ ${t.expr} }}`;
  });
}
