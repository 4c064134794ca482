// The chart's version: package.json's, which generator/releases.ts's newest release must carry.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageJson = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');

export const CHART_VERSION: string = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
