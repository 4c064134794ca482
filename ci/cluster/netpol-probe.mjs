// One TCP connection attempt per target of TARGETS ("host:port,..."), in order, printing
// "<target> connected <address>" or "<target> blocked <why>"; a name that does not resolve prints
// "<target> unresolved <code>". Exits 0 whatever the outcomes: the caller compares them.
import dns from 'node:dns/promises';
import net from 'node:net';

const attempt = (address, port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (outcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(3000, () => done('blocked timeout-3s'));
    socket.on('connect', () => done(`connected ${address}`));
    socket.on('error', (error) => done(`blocked ${error.code}`));
  });

// The enforcer learns a new pod's address from the API a moment after the pod starts; until then
// its rules do not name the pod. Connections made later are the ones the policies decide.
await new Promise((resolve) => setTimeout(resolve, 2000));
for (const target of process.env.TARGETS.split(',')) {
  const colon = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, colon), Number(target.slice(colon + 1))];
  let address;
  try {
    address = net.isIP(host) ? host : (await dns.lookup(host)).address;
  } catch (error) {
    console.log(`${target} unresolved ${error.code}`);
    continue;
  }
  console.log(`${target} ${await attempt(address, port)}`);
}
