/**
 * `npm run lakehouse -- <job> [--flag value ...]`: one job from the sources (jobs/main.ts), as the
 * chart's Job runs it. When its Kafka (KAFKA_BOOTSTRAP_SERVER, or --bootstrap-server) is a local
 * broker (`npm run broker -- start`, or one a parent process started), the job is given the
 * settings that sign it in as its own user, as `npm run local` gives them (dev/broker/clients.ts);
 * settings given in the environment or as flags win. For any other Kafka nothing is added.
 */
import { withBrokerAccess } from './broker/clients.ts';

const args = process.argv.slice(2);
for (const [name, value] of Object.entries(withBrokerAccess(args[0] ?? '', process.env, args)))
  if (value !== undefined) process.env[name] = value;
// Imported only now: the job reads its settings as soon as it is loaded.
await import('../jobs/main.ts');
