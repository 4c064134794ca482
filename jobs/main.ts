// The one entry point of every job: `tsx jobs/main.ts <command>` and, bundled, `node lakehouse.mjs <command>`.
import { main } from './cli.ts';
import { isParquetWorker } from './lake/off-thread-sink.ts';

// The bundle is also the parquet worker's entry (lake/off-thread-sink.ts): there it only serves.
if (!isParquetWorker)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(String(error?.stack ?? error) + '\n');
      process.exit(1);
    },
  );
