import path from 'node:path';

export { icebergVersions, requireSparkInstall, sparkVersions } from '../../dev/spark/install.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
