/**
 * The commands the documentation shows: every command line of the shell code blocks (```sh,
 * ```bash, ```shell) of README.md and docs/*.md, one per command as the shell reads it: lines
 * continued by a backslash or inside quotes joined, comments and blank lines dropped.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface DocCommand {
  /** The document, relative to the repository. */
  readonly file: string;
  /** Line of the document where the command starts (1-based). */
  readonly line: number;
  /** The command, its continuation lines joined by a space, without its comment. */
  readonly command: string;
}

const SHELL_FENCE = /^```(sh|bash|shell)\s*$/;

/** README.md and every docs/*.md of the repository at `root`. */
export function documents(root: string): string[] {
  const docs = path.join(root, 'docs');
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => path.join('docs', name))
    : [];
  return ['README.md', ...pages];
}

export function docCommands(root: string): DocCommand[] {
  return documents(root).flatMap((file) => commandsOf(readFileSync(path.join(root, file), 'utf8'), file));
}

/** The commands of the shell blocks of one Markdown text. */
export function commandsOf(markdown: string, file: string): DocCommand[] {
  const lines = markdown.split('\n');
  const commands: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!SHELL_FENCE.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith('```')) end++;
    for (const { offset, command } of splitCommands(lines.slice(start, end)))
      commands.push({ file, line: start + offset + 1, command });
    i = end;
  }
  return commands;
}

/**
 * The commands of a block's lines: a newline ends a command unless it is escaped or inside quotes;
 * `#` at the start of a word, outside quotes, starts a comment that runs to the end of the line.
 */
export function splitCommands(lines: readonly string[]): { offset: number; command: string }[] {
  const commands: { offset: number; command: string }[] = [];
  let text = '';
  let startedAt = 0;
  let quote: '"' | "'" | undefined;
  let continued = false;
  for (const [offset, raw] of lines.entries()) {
    if (text === '') startedAt = offset;
    const line = continued ? raw.trimStart() : raw;
    continued = false;
    for (let c = 0; c < line.length; c++) {
      const char = line[c];
      if (quote) {
        if (char === '\\' && quote === '"' && c + 1 < line.length) {
          text += char + line[++c];
          continue;
        }
        if (char === quote) quote = undefined;
        text += char;
        continue;
      }
      if (char === '\\' && c === line.length - 1) {
        continued = true;
        break;
      }
      if (char === '\\') {
        text += char + (line[++c] ?? '');
        continue;
      }
      if (char === '#' && (c === 0 || /\s/.test(line[c - 1]))) break;
      if (char === '"' || char === "'") quote = char;
      text += char;
    }
    if (quote) text += '\n';
    else if (continued) text = `${text.trimEnd()} `;
    else {
      const command = text.trim();
      if (command) commands.push({ offset: startedAt, command });
      text = '';
    }
  }
  if (text.trim()) commands.push({ offset: startedAt, command: text.trim() });
  return commands;
}
