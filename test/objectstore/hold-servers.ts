// For fixture.test.ts: starts the fixture's servers, prints their settings, then waits to be killed.
import { restCatalogServer } from '../support/objectstore-fixture.ts';

console.log(JSON.stringify(await restCatalogServer()));
setInterval(() => undefined, 60_000);
