/**
 * The headless browser the page tests drive: Debian's `chromium` (ci/tools/install-chromium.sh
 * installs it), never a browser build downloaded by a driver package.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`npm run tools -- chromium\``);
  return CHROMIUM;
}
