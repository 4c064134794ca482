// The reader of the documentation's shell blocks that test/docs/commands.test.ts runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandsOf } from './shell-commands.ts';

test('commands of shell blocks only: continuations and quoted newlines joined, comments and blank lines dropped', () => {
  const markdown = [
    'Some text with `npm run inline` in it.',
    '```sh',
    'npm ci                 # install',
    '',
    '# a comment line',
    'helm upgrade --install lakehouse ./chart \\',
    '  --set schedule.pipeline="*/5 * * * *"   # every five minutes',
    'export A=$(npm run -s broker -- start | tail -n 1)   # the address',
    'spark-sql -e "SELECT 1;',
    '    SELECT \\"#\\" # not a comment"',
    "echo 'it''s' a#b",
    '```',
    '```',
    'npm run output-not-a-command',
    '```',
    '```python',
    'print("npm run not-shell")',
    '```',
    '```bash',
    'npm test',
    '```',
  ].join('\n');
  assert.equal(commandsOf(markdown, 'X.md'), [
    { file: 'X.md', line: 3, command: 'npm ci' },
    {
      file: 'X.md',
      line: 6,
      command: 'helm upgrade --install lakehouse ./chart --set schedule.pipeline="*/5 * * * *"',
    },
    { file: 'X.md', line: 8, command: 'export A=$(npm run -s broker -- start | tail -n 1)' },
    { file: 'X.md', line: 9, command: 'spark-sql -e "SELECT 1;\n    SELECT \\"#\\" # not a comment"' },
    { file: 'X.md', line: 11, command: "echo 'it''s' a#b" },
    { file: 'X.md', line: 20, command: 'npm test' },
  ]);
});

test.run();
