// A minimal Iceberg REST catalog client: the OAuth2 client-credentials token when the catalog wants
// one, the prefix its /v1/config names for the warehouse, and requests under /v1/{prefix}/.
import type { CatalogSettings } from './settings.ts';

export type CatalogAccess = Pick<
  CatalogSettings,
  'LAKEHOUSE_CATALOG_URI' | 'LAKEHOUSE_CATALOG_WAREHOUSE' | 'LAKEHOUSE_CATALOG_CREDENTIAL'
>;

export interface CatalogResponse {
  readonly status: number;
  /** The body as sent: snapshot ids are 64-bit, so parse it with that in mind. */
  readonly text: string;
}

export interface CatalogClient {
  /** `/v1/config`'s answer for the warehouse. */
  readonly config: { readonly defaults: Record<string, string>; readonly overrides: Record<string, string> };
  /** `path` is relative to `/v1/{prefix}/`, e.g. "namespaces". */
  request(method: string, path: string, body?: string): Promise<CatalogResponse>;
}

/** POST /v1/oauth/tokens with the client credentials `id:secret`; the access token. */
export async function catalogToken(uri: string, credential: string): Promise<string> {
  const colon = credential.indexOf(':');
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: credential.slice(0, colon),
    client_secret: credential.slice(colon + 1),
    scope: 'catalog',
  });
  const response = await fetch(`${uri}/v1/oauth/tokens`, { method: 'POST', body: form });
  const text = await response.text();
  if (!response.ok) throw new Error(`${uri}/v1/oauth/tokens: HTTP ${response.status} ${text.slice(0, 300)}`);
  const token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  if (typeof token !== 'string')
    throw new Error(`${uri}/v1/oauth/tokens answered no access_token: ${text.slice(0, 300)}`);
  return token;
}

export async function connectCatalog(access: CatalogAccess): Promise<CatalogClient> {
  const uri = access.LAKEHOUSE_CATALOG_URI;
  const credential = access.LAKEHOUSE_CATALOG_CREDENTIAL;
  const headers: Record<string, string> = credential
    ? { authorization: `Bearer ${await catalogToken(uri, credential)}` }
    : {};
  const warehouse = encodeURIComponent(access.LAKEHOUSE_CATALOG_WAREHOUSE);
  const configResponse = await fetch(`${uri}/v1/config?warehouse=${warehouse}`, { headers });
  const configText = await configResponse.text();
  if (!configResponse.ok)
    throw new Error(`${uri}/v1/config: HTTP ${configResponse.status} ${configText.slice(0, 300)}`);
  const config = JSON.parse(configText) as CatalogClient['config'];
  const prefix = config.overrides?.prefix ?? config.defaults?.prefix;
  const base = `${uri}/v1/${prefix ? `${encodeURIComponent(prefix)}/` : ''}`;
  return {
    config,
    async request(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, text: await response.text() };
    },
  };
}
