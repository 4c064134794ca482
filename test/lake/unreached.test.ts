// A request that never reached its server is tried again (the connection refused: a server not yet
// listening, or a NetworkPolicy enforcer that does not know a new pod yet); one that may have reached
// it is not (its outcome is unknown), and a refusal that lasts ends in the error.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isUnreached, untilReached } from '../../jobs/lake/io/unreached.ts';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
const listen = (server: Server, port: number) =>
  new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const fast = { attempts: 6, firstDelayMs: 50 };

test('a connection refused until the server listens is tried again, and the request then answered once', async () => {
  const port = await freePort();
  let requests = 0;
  const server = createServer((_, response) => {
    requests++;
    response.end('ok');
  });
  setTimeout(() => void listen(server, port), 300);
  try {
    const response = await untilReached(() => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }), fast);
    assert.is(await response.text(), 'ok');
    assert.is(requests, 1);
  } finally {
    server.close();
  }
});

test('a refusal that lasts ends in the refusal, after the attempts', async () => {
  const port = await freePort();
  let attempts = 0;
  const started = Date.now();
  try {
    await untilReached(
      () => {
        attempts++;
        return fetch(`http://127.0.0.1:${port}/`);
      },
      { attempts: 3, firstDelayMs: 50 },
    );
    assert.unreachable('nothing listens');
  } catch (error) {
    assert.ok(isUnreached(error), String(error));
    assert.is(attempts, 3);
    assert.ok(Date.now() - started >= 150, 'waited 50 + 100 ms between the attempts');
  }
});

test('a connection dropped after the request was sent is not tried again: it may have been applied', async () => {
  let requests = 0;
  const server = createServer((request) => {
    requests++;
    request.socket.destroy();
  });
  const port = await freePort();
  await listen(server, port);
  try {
    await untilReached(() => fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'commit' }), fast);
    assert.unreachable('the server dropped the connection');
  } catch (error) {
    assert.not.ok(isUnreached(error), String(error));
    assert.is(requests, 1);
  } finally {
    server.close();
  }
});

test('what counts as unreached: refused, no route, a name not resolvable for now; not a reset or a timeout', () => {
  const fetchError = (code: string) =>
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });
  for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
    assert.ok(isUnreached(fetchError(code)), code);
  for (const code of ['ECONNRESET', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'ENOTFOUND'])
    assert.not.ok(isUnreached(fetchError(code)), code);
  // Happy eyeballs: every address refused.
  const both = new TypeError('fetch failed', { cause: new AggregateError([fetchError('ECONNREFUSED').cause]) });
  assert.ok(isUnreached(both));
});

test.run();
