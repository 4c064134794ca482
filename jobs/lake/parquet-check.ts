import type { ColumnChunk, FileMetaData } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import type { InputFile } from './io/file-io.ts';
import { pageCrc } from './page-checksums.ts';

/**
 * `created_by` of the files the Node writer writes: every page of theirs carries a CRC. Files it
 * wrote before it set page CRCs say `lakehouse` and are checked like other writers' (where a page has one).
 */
export const lakehouseCreatedBy = 'lakehouse version 2';

/** Written by this project's Node writer, of any version: its manifest bounds are the exact least and greatest values. */
export function writtenByLakehouse(metadata: FileMetaData): boolean {
  return metadata.created_by === 'lakehouse' || metadata.created_by === lakehouseCreatedBy;
}

/** A data file that is not whole or not what its table says it is; the message names the file. */
export class DamagedFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`damaged data file ${file}: ${message}`);
    this.name = 'DamagedFileError';
  }
}

export interface PageCheck {
  readonly rowGroups: number;
  readonly pages: number;
  /** Pages whose CRC was present and matched. */
  readonly checksummed: number;
}

/** Where a chunk's first page is: its dictionary page if it has one (some writers record 0 for none). */
function chunkStart(meta: NonNullable<ColumnChunk['meta_data']>): bigint {
  const dictionary = meta.dictionary_page_offset;
  return dictionary !== undefined && dictionary > 0n && dictionary < meta.data_page_offset
    ? dictionary
    : meta.data_page_offset;
}

/**
 * Walks every page of every column chunk of a Parquet file: each header parses, each page lies
 * inside its chunk and the chunk inside the file's data region, the pages' value and row counts add
 * up to the footer's, and each page's CRC (Parquet's PageHeader.crc: CRC-32 of the bytes after the
 * header as stored) matches. Files this project wrote must have a CRC on every page; other writers'
 * pages (Spark's parquet-mr) are checked where they have one. Memory: one column chunk at a time.
 */
export async function checkPages(input: InputFile, metadata: FileMetaData, file: string): Promise<PageCheck> {
  const dataEnd = input.byteLength - 8 - metadata.metadata_length;
  const crcRequired = metadata.created_by === lakehouseCreatedBy;
  let pages = 0;
  let checksummed = 0;
  let rows = 0n;
  for (const [g, group] of metadata.row_groups.entries()) {
    rows += group.num_rows;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      const column = meta?.path_in_schema.join('.') ?? '?';
      const where = (offset: number | bigint) => `row group ${g}, column ${column}, page at offset ${offset}`;
      if (!meta) throw new DamagedFileError(file, `row group ${g} has a column chunk without metadata`);
      const start = chunkStart(meta);
      const end = start + meta.total_compressed_size;
      if (start < 4n || end > BigInt(dataEnd)) {
        throw new DamagedFileError(
          file,
          `row group ${g}, column ${column}: bytes ${start}..${end} lie outside the file's data (4..${dataEnd})`,
        );
      }
      const bytes = new Uint8Array(await input.slice(Number(start), Number(end)));
      if (bytes.length !== Number(end - start)) throw new DamagedFileError(file, `${where(start)}: short read`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let at = 0;
      let values = 0n;
      let pageRows = 0n;
      while (at < bytes.length) {
        const offset = Number(start) + at;
        const reader = { view, offset: at };
        let header: ReturnType<typeof parquetHeader>;
        try {
          header = parquetHeader(reader);
        } catch (error) {
          throw new DamagedFileError(
            file,
            `${where(offset)}: the page header does not parse (${(error as Error).message})`,
          );
        }
        const bodyEnd = reader.offset + header.compressed_page_size;
        if (!(header.compressed_page_size >= 0) || bodyEnd > bytes.length) {
          throw new DamagedFileError(
            file,
            `${where(offset)}: a ${header.compressed_page_size}-byte page runs past its column chunk`,
          );
        }
        if (header.crc !== undefined) {
          const computed = pageCrc(bytes.subarray(reader.offset, bodyEnd));
          if (computed !== header.crc)
            throw new DamagedFileError(
              file,
              `${where(offset)}: CRC mismatch (stored ${header.crc >>> 0}, computed ${computed >>> 0})`,
            );
          checksummed++;
        } else if (crcRequired) {
          throw new DamagedFileError(
            file,
            `${where(offset)}: the page has no CRC, which every page written by ${lakehouseCreatedBy} has`,
          );
        }
        if (header.type === 'DATA_PAGE_V2') {
          values += BigInt(header.data_page_header_v2!.num_values);
          pageRows += BigInt(header.data_page_header_v2!.num_rows);
        } else if (header.type === 'DATA_PAGE') {
          // Without repetition (every column of the lake's flat schemas) a value is a row.
          values += BigInt(header.data_page_header!.num_values);
          pageRows += BigInt(header.data_page_header!.num_values);
        } else if (header.type !== 'DICTIONARY_PAGE' && header.type !== 'INDEX_PAGE') {
          throw new DamagedFileError(file, `${where(offset)}: unknown page type ${String(header.type)}`);
        }
        pages++;
        at = bodyEnd;
      }
      if (values !== meta.num_values)
        throw new DamagedFileError(
          file,
          `row group ${g}, column ${column}: pages hold ${values} values, the footer says ${meta.num_values}`,
        );
      if (pageRows !== group.num_rows)
        throw new DamagedFileError(
          file,
          `row group ${g}, column ${column}: pages hold ${pageRows} rows, the row group has ${group.num_rows}`,
        );
    }
  }
  if (rows !== metadata.num_rows)
    throw new DamagedFileError(file, `row groups hold ${rows} rows, the footer says ${metadata.num_rows}`);
  return { rowGroups: metadata.row_groups.length, pages, checksummed };
}
