/**
 * One pipeline stage as a person sees it: what the job's JSON log lines say about its progress
 * and outcome, folded into a state, and that state as one line of text.
 */
import { formatCount, type LogRecord } from '../../jobs/log-text.ts';

export interface Stage {
  readonly name: string;
  readonly startedMs: number;
  status: 'running' | 'done' | 'failed';
  unit?: string;
  done?: number;
  total?: number;
  perSecond?: number;
  /** What the job reports when it finishes (its `result`), as key=value pairs. */
  summary?: string;
  error?: string;
  seconds?: number;
}

export function startStage(name: string, nowMs: number): Stage {
  return { name, startedMs: nowMs, status: 'running' };
}

/** Folds one log record of the stage's job into the stage. */
export function observe(stage: Stage, record: LogRecord): void {
  if (record.msg === 'progress') {
    const { time: _t, level: _l, job: _j, msg: _m, engine: _e, total, percent: _p, perSecond, ...counted } = record;
    const counter = Object.entries(counted).find(([, v]) => typeof v === 'number');
    if (counter) [stage.unit, stage.done] = [counter[0], counter[1] as number];
    if (typeof total === 'number') stage.total = total;
    if (typeof perSecond === 'number') stage.perSecond = perSecond;
  } else if (record.msg === 'finished') {
    stage.status = 'done';
    stage.summary = summarize(record.result);
  } else if (record.msg === 'failed') {
    stage.status = 'failed';
    stage.error = String(record.error ?? 'failed');
  }
}

/**
 * The process has exited: a stage whose job did not say how it ended takes its exit code. The
 * stage's time is the wall time a person waited, start-up included.
 */
export function endStage(stage: Stage, exitCode: number, lastWords: string | undefined, nowMs: number): void {
  if (exitCode !== 0 && stage.status !== 'failed') {
    stage.status = 'failed';
    stage.error = lastWords ? `exit code ${exitCode}: ${lastWords}` : `exit code ${exitCode}`;
  } else if (exitCode === 0 && stage.status === 'running') {
    stage.status = 'done';
  }
  stage.seconds = (nowMs - stage.startedMs) / 1000;
}

/** A job's result in a few words: its scalar fields, lists by their length; nested detail is left to the log. */
export function summarize(result: unknown): string {
  if (result === null || typeof result !== 'object') return result === undefined ? '' : String(result);
  const entries = Array.isArray(result) ? [['items', result] as const] : Object.entries(result);
  return entries
    .filter(([, v]) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.length : typeof v === 'number' ? formatCount(v) : String(v)}`)
    .join(' ');
}

const BAR_WIDTH = 20;
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';

export function stageLine(stage: Stage, nowMs: number): string {
  const seconds = stage.status === 'running' ? (nowMs - stage.startedMs) / 1000 : (stage.seconds ?? 0);
  const mark =
    stage.status === 'done' ? '✔' : stage.status === 'failed' ? '✘' : SPINNER[Math.floor(nowMs / 100) % SPINNER.length];
  const head = `${mark} ${stage.name.padEnd(7)}`;
  const elapsed = `${seconds.toFixed(1)} s`;
  if (stage.status === 'failed') return [head, `failed after ${elapsed}: ${stage.error}`].join(' ');
  const rate = stage.perSecond === undefined ? '' : `${formatCount(stage.perSecond)}/s`;
  return [head, bar(stage, nowMs), counts(stage), rate, elapsed, stage.summary ?? ''].filter(Boolean).join('  ');
}

function bar(stage: Stage, nowMs: number): string {
  const share = stage.status === 'done' ? 1 : stage.total ? Math.min(1, (stage.done ?? 0) / stage.total) : undefined;
  if (share === undefined) {
    // No total to measure against: a block sweeping across says the job is alive.
    const at = Math.floor(nowMs / 80) % (BAR_WIDTH - 3);
    return '░'.repeat(at) + '███' + '░'.repeat(BAR_WIDTH - 3 - at) + '     ';
  }
  const filled = Math.round(share * BAR_WIDTH);
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled) + ` ${String(Math.floor(share * 100)).padStart(3)}%`;
}

function counts(stage: Stage): string {
  if (stage.done === undefined) return '';
  const done = formatCount(stage.done);
  return stage.total !== undefined && stage.status === 'running'
    ? `${done}/${formatCount(stage.total)} ${stage.unit}`
    : `${done} ${stage.unit}`;
}
