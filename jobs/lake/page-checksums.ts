import { crc32 } from 'node:zlib';
import type { RowGroup } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import type { PageIndexes } from 'hyparquet-writer/src/types.js';

/** The pages' bytes after their header as stored (compressed, levels included): what PageHeader.crc covers. */
export function pageCrc(body: Uint8Array): number {
  // Thrift has no unsigned i32: the CRC is stored as the signed int with the same bits.
  return crc32(body) | 0;
}

/**
 * Sets PageHeader.crc on every page of the row groups hyparquet-writer has just encoded (it can
 * write the field but never computes it). The groups are still in memory: `bytes` holds the file
 * from offset `base` on, and the groups' metadata and page indexes are the writer's own objects,
 * not yet serialised, so inserting the field only shifts offsets this function corrects in place:
 * each chunk's page offsets and sizes, its offset index, the groups' sizes. Returns the new bytes;
 * the file grows by `result.length - bytes.length`.
 */
export function addPageChecksums(
  bytes: Uint8Array,
  base: number,
  groups: readonly RowGroup[],
  indexes: readonly PageIndexes[],
): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let copied = 0; // bytes of `bytes` already in parts
  let shift = 0; // bytes inserted so far
  const moved = new Map<bigint, { offset: bigint; grew: number }>();
  for (const group of groups) {
    const groupShift = shift;
    for (const chunk of group.columns) {
      const chunkShift = shift;
      const meta = chunk.meta_data!;
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset) - base;
      const end = start + Number(meta.total_compressed_size);
      let at = start;
      while (at < end) {
        const reader = { view, offset: at };
        const header = parquetHeader(reader);
        const bodyStart = reader.offset;
        const bodyEnd = bodyStart + header.compressed_page_size;
        if (bodyEnd > end) throw new Error(`page at ${base + at} runs past its column chunk`);
        const writer = new ByteWriter(64);
        // hyparquet-writer bundles its own copy of hyparquet's types
        writePageHeader(writer as never, { ...header, crc: pageCrc(bytes.subarray(bodyStart, bodyEnd)) } as never);
        const rewritten = writer.getBytes();
        const grew = rewritten.length - (bodyStart - at);
        // The CRC field is 2 to 6 bytes; any other growth means a header field was lost in the round trip.
        if (grew < 2 || grew > 6)
          throw new Error(`page header at ${base + at} did not survive re-encoding (${grew} bytes more)`);
        parts.push(bytes.subarray(copied, at), rewritten);
        copied = bodyStart;
        moved.set(BigInt(base + at), { offset: BigInt(base + at + shift), grew });
        shift += grew;
        at = bodyEnd;
      }
      if (at !== end) throw new Error(`column chunk ${meta.path_in_schema.join('.')} does not end on a page boundary`);
      const grown = BigInt(shift - chunkShift);
      meta.data_page_offset = moved.get(meta.data_page_offset)!.offset;
      if (meta.dictionary_page_offset !== undefined)
        meta.dictionary_page_offset = moved.get(meta.dictionary_page_offset)!.offset;
      meta.total_compressed_size += grown;
      meta.total_uncompressed_size += grown;
      (chunk as { file_offset: bigint }).file_offset = BigInt(start + base + chunkShift);
    }
    const grown = BigInt(shift - groupShift);
    group.total_byte_size += grown;
    if (group.total_compressed_size !== undefined) group.total_compressed_size += grown;
  }
  for (const { offsetIndex } of indexes) {
    for (const location of offsetIndex?.page_locations ?? []) {
      const page = moved.get(location.offset);
      if (!page) continue;
      location.offset = page.offset;
      location.compressed_page_size += page.grew;
    }
  }
  parts.push(bytes.subarray(copied));
  return Buffer.concat(parts);
}
