/**
 * The exporter's view of the lake, kept in the background so that a scrape never waits on Kafka or
 * the lake: the lake part and the Kafka part are each refreshed by one read at a time, `refreshMs`
 * after the previous read of that part ended, a read of Kafka bounded and its connections closed
 * when it ends. A part whose read fails keeps its last values, with the error and their age.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import {
  assembleReport,
  type KafkaPart,
  type LakePart,
  type LakeReport,
  type PartState,
  readKafka,
  readLake,
  readPart,
} from './lake-state.ts';
import { RunHistory } from './run-history.ts';
import { withDeadline } from './run-record.ts';

export interface MonitorTiming {
  /** Pause between the end of one read of a part and the start of the next. */
  readonly refreshMs: number;
  /** Longest a read of Kafka may take (and at most LAKEHOUSE_KAFKA_WAIT_SECONDS). */
  readonly kafkaReadMs: number;
  /** How long a report waits for a part that was never read yet (the exporter's first scrapes). */
  readonly firstReadWaitMs: number;
}

export const defaultMonitorTiming: MonitorTiming = { refreshMs: 5_000, kafkaReadMs: 10_000, firstReadWaitMs: 500 };

export class LakeMonitor {
  private lake: PartState<LakePart> = {};
  private kafka: PartState<KafkaPart> = {};
  private readonly history = new RunHistory();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private firstReads: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly timing: MonitorTiming = defaultMonitorTiming,
  ) {}

  start(): void {
    const kafkaMs = Math.min(this.timing.kafkaReadMs, this.config.kafkaWaitSeconds * 1000);
    this.firstReads = Promise.all([
      this.keepReading(
        'the lake',
        () => readLake(this.config, this.history),
        () => this.lake,
        (state) => (this.lake = state),
      ),
      this.keepReading(
        'Kafka',
        () => readKafka(this.config, this.logger.job, kafkaMs),
        () => this.kafka,
        (state) => (this.kafka = state),
      ),
    ]);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** The report from the parts as last read, waiting at most `firstReadWaitMs` for parts never read. */
  async report(): Promise<LakeReport> {
    await withDeadline(this.firstReads, this.timing.firstReadWaitMs);
    return assembleReport(this.config, this.lake, this.kafka);
  }

  /** Reads a part now and again `refreshMs` after each read ends; resolves after the first read. */
  private async keepReading<T>(
    name: string,
    read: () => Promise<T>,
    get: () => PartState<T>,
    set: (state: PartState<T>) => void,
  ): Promise<void> {
    const before = get();
    const next = await readPart(read);
    set(next.error === undefined ? next : { ...before, error: next.error });
    if (next.error !== undefined && next.error !== before.error)
      this.logger.warn(`lakehouse_up 0: could not read ${name}`, { error: next.error });
    else if (next.error === undefined && before.error !== undefined)
      this.logger.info(`${name} can be read again`, { part: name });
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.keepReading(name, read, get, set);
    }, this.timing.refreshMs);
    timer.unref();
    this.timers.add(timer);
  }
}
