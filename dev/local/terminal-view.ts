/**
 * `npm run local` for a person: one line per stage, redrawn in place while the stage runs (on a
 * terminal), then the jobs' summary and the gold table. The jobs' warnings and errors are printed
 * as readable lines above the live one; their other output stays in `--log-format json`.
 */
import { formatText, type LogRecord } from '../../jobs/log-text.ts';
import type { JobRun } from '../job-process.ts';
import { formatTable } from '../../jobs/table-format.ts';
import { endStage, observe, stageLine, startStage, type Stage } from './stage.ts';
import type { PipelineView, Summary } from './view.ts';

const REDRAW_MS = 100;
const STDERR_LINES_KEPT = 200;

export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function terminalView(out: Terminal = process.stdout, now: () => number = Date.now): PipelineView {
  const live = out.isTTY === true;
  const color = live && !process.env.NO_COLOR;
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  let current: Stage | undefined;
  let stderr: string[] = [];
  let timer: NodeJS.Timeout | undefined;

  const styled = (stage: Stage, line: string) => {
    const code = stage.status === 'done' ? '32' : stage.status === 'failed' ? '31' : '36';
    return paint(code, line.slice(0, 1)) + line.slice(1);
  };
  // A live line longer than the terminal would wrap, and `\r` could no longer redraw it.
  const fit = (line: string) => {
    const chars = [...line];
    const width = (out.columns || 100) - 1;
    return chars.length > width ? chars.slice(0, width - 1).join('') + '…' : line;
  };
  const draw = () => {
    if (live && current) out.write('\r\x1b[2K' + styled(current, fit(stageLine(current, now()))));
  };
  const print = (text: string) => {
    if (live && current) out.write('\r\x1b[2K');
    out.write(text + '\n');
    draw();
  };

  const begin = (name: string) => {
    current = startStage(name, now());
    stderr = [];
    draw();
    timer = setInterval(draw, REDRAW_MS);
    timer.unref();
  };
  const end = () => {
    clearInterval(timer);
    const stage = current!;
    if (live) out.write('\r\x1b[2K');
    current = undefined;
    out.write(styled(stage, stageLine(stage, now())) + '\n');
  };
  // The job's own `failed` line says why; without one (a crash), its stderr's error line does.
  const lastWords = () => stderr.find((line) => /error/i.test(line)) ?? stderr.at(-1);

  return {
    lake: (dir) => out.write(`lake: ${dir}\n`),
    brokerStarting: () => begin('kafka'),
    brokerUp: (bootstrap, seconds) => {
      Object.assign(current!, {
        status: 'done',
        summary: `local broker at ${bootstrap} (ready in ${seconds.toFixed(1)} s)`,
      });
      endStage(current!, 0, undefined, now());
      end();
    },
    stageStarted: begin,
    jobStdout: (line) => {
      const record = parseRecord(line);
      if (!record) return print(line);
      if (current) observe(current, record);
      if ((record.level === 'warn' || record.level === 'error') && record.msg !== 'failed') {
        print(paint(record.level === 'warn' ? '33' : '31', formatText(record)));
      }
    },
    jobStderr: (line) => {
      if (line.trim() === '') return;
      stderr.push(line);
      if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
    },
    stageEnded: (run: JobRun) => {
      endStage(current!, run.exitCode, lastWords(), now());
      end();
    },
    abandoned: (run, lake) => {
      out.write(
        `\nstopped at ${run.job} (exit code ${run.exitCode}); every log line: npm run local -- --log-format json\n`,
      );
      out.write(`lake: ${lake}\n`);
    },
    finished: ({ lake, gold, runs }: Summary) => {
      out.write(
        '\nJobs\n' +
          formatTable(
            runs.map((r) => ({
              job: r.job,
              seconds: r.seconds.toFixed(2),
              peak_rss_mib: (r.peakRssBytes / 2 ** 20).toFixed(0),
            })),
          ) +
          '\n',
      );
      out.write(`\n${gold}\n`);
      out.write(`\nlake: ${lake}\n`);
    },
    close: () => clearInterval(timer),
  };
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
