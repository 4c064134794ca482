// The local broker's SCRAM users: the same three roles as the chart's, with passwords made per
// broker start and kept in files (never in arguments of a long-lived process or in logs).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** admin: the topics job and ACLs (a super user); producer: writes the topic; pipeline: reads it. */
export const kafkaUsers = {
  admin: 'lakehouse-admin',
  producer: 'lakehouse-producer',
  pipeline: 'lakehouse-pipeline',
} as const;
export type KafkaRole = keyof typeof kafkaUsers;

export const SASL_MECHANISM = 'SCRAM-SHA-512';

export function credentialsDir(dataDir: string): string {
  return join(dataDir, 'credentials');
}

export function passwordFile(dataDir: string, role: KafkaRole): string {
  return join(credentialsDir(dataDir), `${kafkaUsers[role]}.password`);
}

/** Writes a fresh password per user; returns the storage tool's --add-scram arguments. */
export function makeUsers(dataDir: string): {
  readonly scramArgs: string[];
  readonly passwords: Record<KafkaRole, string>;
} {
  mkdirSync(credentialsDir(dataDir), { recursive: true, mode: 0o700 });
  const passwords = {} as Record<KafkaRole, string>;
  const scramArgs: string[] = [];
  for (const role of Object.keys(kafkaUsers) as KafkaRole[]) {
    const password = randomBytes(24).toString('base64url');
    passwords[role] = password;
    writeFileSync(passwordFile(dataDir, role), password, { mode: 0o600 });
    scramArgs.push('--add-scram', `${SASL_MECHANISM}=[name=${kafkaUsers[role]},password=${password}]`);
  }
  return { scramArgs, passwords };
}
