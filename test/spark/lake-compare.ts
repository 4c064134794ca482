import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import path from 'node:path';

export const layers = {
  bronze: 'bronze/vehicles',
  silver: 'silver/vehicles',
  rejected: 'silver/rejected',
  gold: 'gold/stats',
} as const;
export type Layer = keyof typeof layers;

/** DuckDB reading two lakes side by side: an independent Parquet reader for both engines. */
export class LakePair {
  private constructor(private readonly db: DuckDBConnection, readonly left: string, readonly right: string) {}

  static async open(left: string, right: string): Promise<LakePair> {
    const instance = await DuckDBInstance.create(':memory:');
    return new LakePair(await instance.connect(), left, right);
  }

  glob(lake: string, layer: Layer): string {
    return `read_parquet('${path.join(lake, layers[layer], '*.parquet').replaceAll("'", "''")}')`;
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.db.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  async count(lake: string, layer: Layer): Promise<number> {
    const [row] = await this.rows(`select count(*)::INTEGER as n from ${this.glob(lake, layer)}`);
    return row.n as number;
  }

  /** Rows (of the given columns) in one lake's layer and not in the other's, both ways, as multisets. */
  async difference(layer: Layer, columns: readonly string[]): Promise<{ onlyLeft: unknown[]; onlyRight: unknown[] }> {
    const select = (lake: string) => `select ${columns.map((c) => `"${c}"`).join(', ')} from ${this.glob(lake, layer)}`;
    const onlyLeft = await this.rows(`${select(this.left)} except all ${select(this.right)} limit 5`);
    const onlyRight = await this.rows(`${select(this.right)} except all ${select(this.left)} limit 5`);
    return { onlyLeft, onlyRight };
  }

  /** Per column of one file: physical type, logical annotation and repetition. */
  async parquetSchema(file: string): Promise<Record<string, string>> {
    const rows = await this.rows(
      `select name, type, converted_type, repetition_type from parquet_schema('${file.replaceAll("'", "''")}') where num_children is null or num_children = 0`,
    );
    return Object.fromEntries(rows.map((r) => [r.name as string, `${r.type}/${r.converted_type ?? '-'}/${r.repetition_type}`]));
  }

  /** Gold rows in file order. */
  async gold(lake: string): Promise<Record<string, unknown>[]> {
    return this.rows(`select * from ${this.glob(lake, 'gold')}`);
  }
}
