import path from 'node:path';

/** Where each layer lives under the lake root (docs/contract.md). */
export function lakePaths(dataDir: string) {
  const root = path.resolve(dataDir);
  return {
    root,
    bronze: path.join(root, 'bronze', 'vehicles'),
    silverRoot: path.join(root, 'silver'),
    silver: path.join(root, 'silver', 'vehicles'),
    rejected: path.join(root, 'silver', 'rejected'),
    goldRoot: path.join(root, 'gold'),
    gold: path.join(root, 'gold', 'stats'),
  };
}

export type LakePaths = ReturnType<typeof lakePaths>;

const bronzePattern = /^part-p(\d{5})-o(\d{20})-(\d{20})\.parquet$/;

export interface BronzeFileName {
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
}

/** Deterministic per partition and offset range, so a re-run of the same range writes the same name. */
export function bronzeFileName({ partition, firstOffset, lastOffset }: BronzeFileName): string {
  return `part-p${String(partition).padStart(5, '0')}-o${String(firstOffset).padStart(20, '0')}-${String(lastOffset).padStart(20, '0')}.parquet`;
}

export function parseBronzeFileName(name: string): BronzeFileName | undefined {
  const match = bronzePattern.exec(name);
  if (!match) return undefined;
  return { partition: Number(match[1]), firstOffset: BigInt(match[2]), lastOffset: BigInt(match[3]) };
}

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.parquet`;
}
