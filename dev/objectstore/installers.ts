// The object store's and the REST catalog's installers (versioned, idempotent: an installed tool
// costs one quick bash run), run before a server starts.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs an installer; the last line of its stdout is what it installed. */
async function install(script: string): Promise<string> {
  try {
    const { stdout } = await run('bash', [script], { maxBuffer: 16 << 20 });
    const last = stdout.trim().split('\n').at(-1);
    if (!last) throw new Error('it printed nothing');
    return last;
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`${script} failed: ${stderr.split('\n').slice(-10).join('\n') || (error as Error).message}`);
  }
}

/** The `weed` binary of SeaweedFS (install-seaweedfs.sh). */
export const seaweedfsBinary = (): Promise<string> => install(path.join(import.meta.dirname, 'install-seaweedfs.sh'));

/** The directory holding Apache Iceberg's REST catalog: libs/ and the launcher's classes/ (rest-catalog/install.sh). */
export const restCatalogHome = (): Promise<string> =>
  install(path.join(import.meta.dirname, 'rest-catalog', 'install.sh'));
