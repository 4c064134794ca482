// What the command line gives a command that looks at the lake (`tables`, `show`, `status`…) and prints it.
import type { Config } from './config.ts';

export interface InspectArgs {
  readonly dataDir: string;
  readonly positional: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

/** The arguments and every setting (status reads Kafka's). */
export interface CommandArgs extends InspectArgs {
  readonly config: Config;
}

/** An inspection command: what it prints for people (or `--json`). */
export type Inspector = (args: CommandArgs) => Promise<string>;
