// What a client needs to reach an Iceberg REST catalog and its S3 storage, as environment variables:
// `npm run objectstore -- start` prints them as `export` lines, the test fixtures return them, and a
// store given in the environment is read back from them.

/** The variables, in the order they are printed. */
export const SETTING_NAMES = [
  'LAKEHOUSE_CATALOG',
  'LAKEHOUSE_CATALOG_URI',
  'LAKEHOUSE_CATALOG_WAREHOUSE',
  'LAKEHOUSE_CATALOG_CREDENTIAL',
  'LAKEHOUSE_S3_ENDPOINT',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
] as const;

export interface CatalogSettings {
  readonly LAKEHOUSE_CATALOG: 'rest';
  /** The Iceberg REST endpoint, e.g. http://127.0.0.1:PORT (clients add /v1/...). */
  readonly LAKEHOUSE_CATALOG_URI: string;
  /** The catalog's warehouse, e.g. s3://lakehouse. */
  readonly LAKEHOUSE_CATALOG_WAREHOUSE: string;
  /** OAuth2 client credentials `id:secret` (PyIceberg's `credential`); absent when the catalog needs none. */
  readonly LAKEHOUSE_CATALOG_CREDENTIAL?: string;
  /** The S3 endpoint the table files are on (path-style addressing). */
  readonly LAKEHOUSE_S3_ENDPOINT: string;
  readonly AWS_ACCESS_KEY_ID: string;
  readonly AWS_SECRET_ACCESS_KEY: string;
  readonly AWS_REGION: string;
}

export const S3_REGION = 'us-east-1';

/** `export NAME='value'` lines that a POSIX shell `eval`s; unset settings are left out. */
export function exportLines(settings: CatalogSettings): string {
  return SETTING_NAMES.flatMap((name) => {
    const value = settings[name];
    return value === undefined ? [] : [`export ${name}=${shellQuote(value)}`];
  }).join('\n');
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The settings a store given in `env` names (LAKEHOUSE_CATALOG_URI set), or undefined without one.
 * Throws naming the first variable that is missing or wrong.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): CatalogSettings | undefined {
  const uri = env.LAKEHOUSE_CATALOG_URI?.trim();
  if (!uri) return undefined;
  const required = (name: (typeof SETTING_NAMES)[number]): string => {
    const value = env[name]?.trim();
    if (!value) throw new Error(`${name} is not set, but LAKEHOUSE_CATALOG_URI is (${uri}): set both, or neither`);
    return value;
  };
  const kind = env.LAKEHOUSE_CATALOG?.trim() || 'rest';
  if (kind !== 'rest')
    throw new Error(`LAKEHOUSE_CATALOG must be "rest" with LAKEHOUSE_CATALOG_URI set, got "${kind}"`);
  for (const name of ['LAKEHOUSE_CATALOG_URI', 'LAKEHOUSE_S3_ENDPOINT'] as const) {
    if (!/^https?:\/\/[^/]+/.test(required(name)))
      throw new Error(`${name} must be an http(s) URL, got "${env[name]}"`);
  }
  const warehouse = required('LAKEHOUSE_CATALOG_WAREHOUSE');
  if (!warehouse.startsWith('s3://'))
    throw new Error(`LAKEHOUSE_CATALOG_WAREHOUSE must be an s3:// location, got "${warehouse}"`);
  const credential = env.LAKEHOUSE_CATALOG_CREDENTIAL?.trim();
  if (credential !== undefined && credential !== '' && !/^[^:]+:.+$/.test(credential))
    throw new Error('LAKEHOUSE_CATALOG_CREDENTIAL must be "client-id:secret"');
  return {
    LAKEHOUSE_CATALOG: 'rest',
    LAKEHOUSE_CATALOG_URI: uri.replace(/\/+$/, ''),
    LAKEHOUSE_CATALOG_WAREHOUSE: warehouse,
    ...(credential ? { LAKEHOUSE_CATALOG_CREDENTIAL: credential } : {}),
    LAKEHOUSE_S3_ENDPOINT: required('LAKEHOUSE_S3_ENDPOINT').replace(/\/+$/, ''),
    AWS_ACCESS_KEY_ID: required('AWS_ACCESS_KEY_ID'),
    AWS_SECRET_ACCESS_KEY: required('AWS_SECRET_ACCESS_KEY'),
    AWS_REGION: env.AWS_REGION?.trim() || S3_REGION,
  };
}
