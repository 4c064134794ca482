import type { LoadedTable } from '../lake/catalog/catalog.ts';
import { readDataFile } from '../lake/data-file-source.ts';
import { snapshotById, type SnapshotId } from '../lake/iceberg/metadata.ts';
import { liveFiles } from '../lake/iceberg/table.ts';
import { silverColumns } from '../lake/table-schema.ts';

/** A bronze record's place in one number: partition and offset (offsets stay far below 2^40). */
export const coordinate = (partition: number, offset: number): number => partition * 2 ** 40 + offset;

/**
 * The records a replay's append put in silver, read from the files that snapshot added as of that
 * snapshot: a compaction since has rewritten them into files of its own, which still hold them.
 */
export async function recordsAppendedBy(silver: LoadedTable, snapshotId: SnapshotId): Promise<Set<number>> {
  const found = new Set<number>();
  const snapshot = snapshotById(silver.metadata, snapshotId);
  if (!snapshot) return found;
  for (const { file } of await liveFiles(silver, snapshot, new Set([snapshotId]))) {
    for await (const { rows, columns: c } of readDataFile(silver.files, file, silverColumns, [
      'source_partition',
      'source_offset',
    ]))
      for (let i = 0; i < rows; i++)
        found.add(coordinate(c.source_partition[i] as number, c.source_offset[i] as number));
  }
  return found;
}
