// npm run generate            writes chart/ and jobs/spark/lakehouse_contract.json (idempotent)
// npm run generate -- --check fails, naming the files, when they differ from what it would write
import path from 'node:path';
import { BUNDLE_CHART_PATH, chartFiles } from './chart-files.ts';
import { REPO_ROOT } from './bundle-jobs.ts';
import { SPARK_CONTRACT_PATH, sparkContractIsCurrent, writeSparkContract } from './spark-contract.ts';
import { chartDifferences, writeChart } from './write-chart.ts';

export const CHART_DIR = path.join(REPO_ROOT, 'chart');

async function main(): Promise<void> {
  const files = await chartFiles();
  const bundle = files.get(BUNDLE_CHART_PATH);
  if (process.argv.includes('--check')) {
    const differences = await chartDifferences(CHART_DIR, files);
    if (!(await sparkContractIsCurrent())) differences.push(path.relative(REPO_ROOT, SPARK_CONTRACT_PATH));
    if (differences.length > 0) {
      console.error(
        `chart/ (or the Spark contract) differs from what \`npm run generate\` writes:\n  ${differences.join('\n  ')}`,
      );
      process.exit(1);
    }
    console.log(`chart/ is up to date (${files.size} files)`);
    return;
  }
  const changed = await writeChart(CHART_DIR, files);
  if (await writeSparkContract()) changed.push(path.relative(REPO_ROOT, SPARK_CONTRACT_PATH));
  console.log(
    `generate: ${files.size} files in chart/, ${changed.length} changed${changed.length ? ':\n  ' + changed.join('\n  ') : ''}`,
  );
  console.log(`generate: ${BUNDLE_CHART_PATH} is ${bundle?.length ?? 0} bytes`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
