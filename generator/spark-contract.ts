// The contract JSON the Spark engine reads (jobs/contract.ts as data): `npm run generate` writes it
// beside the PySpark stages (jobs/spark/, committed, so local runs find it) and into the chart's
// Spark files (shipped to the driver with `--files`).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { contractJson } from '../jobs/contract.ts';
import { REPO_ROOT } from './bundle-jobs.ts';

export const SPARK_CONTRACT_FILE = 'lakehouse_contract.json';
export const SPARK_CONTRACT_PATH = path.join(REPO_ROOT, 'jobs', 'spark', SPARK_CONTRACT_FILE);

/** Writes jobs/spark/lakehouse_contract.json; true when it changed. */
export async function writeSparkContract(): Promise<boolean> {
  const wanted = contractJson();
  if ((await readFile(SPARK_CONTRACT_PATH, 'utf8').catch(() => undefined)) === wanted) return false;
  await writeFile(SPARK_CONTRACT_PATH, wanted);
  return true;
}

/** Whether jobs/spark/lakehouse_contract.json is what the contract gives. */
export async function sparkContractIsCurrent(): Promise<boolean> {
  return (await readFile(SPARK_CONTRACT_PATH, 'utf8').catch(() => undefined)) === contractJson();
}
