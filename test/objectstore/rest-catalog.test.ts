// The Iceberg REST protocol as the lake's catalog interface will speak it, against both real
// catalogs: SeaweedFS's own and Apache Iceberg's reference server (on SeaweedFS's S3). A commit
// carries its requirements, and a stale assert-ref-snapshot-id is the catalog's 409.
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CatalogClient, connectCatalog } from '../../dev/objectstore/catalog-client.ts';
import type { CatalogSettings } from '../../dev/objectstore/settings.ts';
import { freshNamespace, restCatalogServer, sharedObjectStore } from '../support/objectstore-fixture.ts';

const catalogs: readonly (readonly [string, () => Promise<CatalogSettings>])[] = [
  ['SeaweedFS', sharedObjectStore],
  ['Apache Iceberg REST server', restCatalogServer],
];

const schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'vehicle_id', required: true, type: 'string' },
    { id: 2, name: 'battery', required: false, type: 'int' },
  ],
};

/** A snapshot id above 2^53, as the lake's are: it must come back digit for digit. */
const bigSnapshotId = (): bigint => (1n << 62n) + BigInt(`0x${randomBytes(7).toString('hex')}`);

function expectStatus(response: { status: number; text: string }, status: number, what: string): void {
  assert.is(response.status, status, `${what}: HTTP ${response.status} ${response.text.slice(0, 500)}`);
}

/** The commit of one append snapshot, its requirements as the lake's stages will send them; JSON with the ids unquoted. */
function appendCommit(
  table: { uuid: string; location: string },
  snapshot: { id: bigint; parent: bigint | null; sequence: number },
): string {
  const parent = snapshot.parent === null ? 'null' : String(snapshot.parent);
  const manifestList = `${table.location}/metadata/snap-${snapshot.id}-1-${randomUUID()}.avro`;
  return `{"requirements":[{"type":"assert-table-uuid","uuid":"${table.uuid}"},{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":${parent}}],"updates":[{"action":"add-snapshot","snapshot":{"snapshot-id":${snapshot.id},${snapshot.parent === null ? '' : `"parent-snapshot-id":${parent},`}"sequence-number":${snapshot.sequence},"timestamp-ms":${Date.now()},"manifest-list":"${manifestList}","summary":{"operation":"append"},"schema-id":0}},{"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":${snapshot.id}}]}`;
}

const currentSnapshotId = (text: string) => /"current-snapshot-id"\s*:\s*(-?\d+)/.exec(text)?.[1];

async function createTable(catalog: CatalogClient, namespace: string) {
  expectStatus(
    await catalog.request('POST', 'namespaces', JSON.stringify({ namespace: [namespace] })),
    200,
    'create namespace',
  );
  const created = await catalog.request(
    'POST',
    `namespaces/${namespace}/tables`,
    JSON.stringify({ name: 'vehicles', schema }),
  );
  expectStatus(created, 200, 'create table');
  const metadata = JSON.parse(created.text).metadata as { 'table-uuid': string; location: string };
  return { uuid: metadata['table-uuid'], location: metadata.location };
}

for (const [name, settingsOf] of catalogs) {
  test(`${name}: config, create namespace and table, load it, commit; a stale assert-ref-snapshot-id gets 409`, async () => {
    const settings = await settingsOf();
    const catalog = await connectCatalog(settings);
    assert.type(catalog.config.overrides, 'object', JSON.stringify(catalog.config));
    const namespace = freshNamespace('rest commits');
    const table = await createTable(catalog, namespace);
    assert.ok(table.location.startsWith(`${settings.LAKEHOUSE_CATALOG_WAREHOUSE}/`), table.location);

    const path = `namespaces/${namespace}/tables/vehicles`;
    const loaded = await catalog.request('GET', path);
    expectStatus(loaded, 200, 'load table');
    const metadata = JSON.parse(loaded.text).metadata;
    assert.is(metadata['table-uuid'], table.uuid);
    assert.equal(
      metadata.schemas[0].fields.map((field: { id: number; name: string }) => [field.id, field.name]),
      [
        [1, 'vehicle_id'],
        [2, 'battery'],
      ],
    );

    const first = bigSnapshotId();
    expectStatus(
      await catalog.request('POST', path, appendCommit(table, { id: first, parent: null, sequence: 1 })),
      200,
      'first commit',
    );
    const second = bigSnapshotId();
    expectStatus(
      await catalog.request('POST', path, appendCommit(table, { id: second, parent: first, sequence: 2 })),
      200,
      'second commit',
    );
    assert.is(
      currentSnapshotId((await catalog.request('GET', path)).text),
      String(second),
      '64-bit ids come back exactly',
    );

    // A writer that planned from the first snapshot: main has moved on since.
    const stale = await catalog.request(
      'POST',
      path,
      appendCommit(table, { id: bigSnapshotId(), parent: first, sequence: 2 }),
    );
    expectStatus(stale, 409, 'commit from a stale snapshot');
    assert.is(JSON.parse(stale.text).error.type, 'CommitFailedException');
    const after = await catalog.request('GET', path);
    assert.is(currentSnapshotId(after.text), String(second), 'the refused commit changed nothing');
    assert.is(JSON.parse(after.text).metadata.snapshots.length, 2);
  });
}

test('SeaweedFS refuses a catalog request without a token (403) and one with a token it did not issue (401)', async () => {
  const settings = await sharedObjectStore();
  const anonymous = await connectCatalog({ ...settings, LAKEHOUSE_CATALOG_CREDENTIAL: undefined });
  expectStatus(await anonymous.request('GET', 'namespaces'), 403, 'no token');
  const forged = await fetch(
    `${settings.LAKEHOUSE_CATALOG_URI}/v1/${settings.LAKEHOUSE_CATALOG_WAREHOUSE.slice(5)}/namespaces`,
    {
      headers: { authorization: 'Bearer forged' },
    },
  );
  expectStatus({ status: forged.status, text: await forged.text() }, 401, 'a forged token');
});

test.run();
