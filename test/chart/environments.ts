// Every values file the chart ships: the documented environments and ct's ci/ files.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { CHART_DIR } from './tools.ts';

export const environmentFiles = (): string[] => [
  ...readdirSync(CHART_DIR).filter((f) => /^values-.+\.yaml$/.test(f)),
  ...readdirSync(path.join(CHART_DIR, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => `ci/${f}`),
];
