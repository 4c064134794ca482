// How a client pod reaches Kafka securely: the CA it trusts and its own user's password, each a
// Secret mounted as files (never an environment value), at the paths the job settings default to.
import type { IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { settings } from '../jobs/config.ts';
import type { Binder } from './binder.ts';

const settingDefault = (key: 'kafkaCaFile' | 'kafkaPasswordFile') => settings.find((s) => s.key === key)!.defaultValue;
const dirOf = (file: string) => file.slice(0, file.lastIndexOf('/'));
const baseOf = (file: string) => file.slice(file.lastIndexOf('/') + 1);

export const KAFKA_CA_DIR = dirOf(settingDefault('kafkaCaFile'));
export const KAFKA_USER_DIR = dirOf(settingDefault('kafkaPasswordFile'));
const CA_KEY = baseOf(settingDefault('kafkaCaFile'));

/** The three Kafka users (kafka.auth.users.<role>). */
export type KafkaRole = 'admin' | 'producer' | 'pipeline';
export const KAFKA_ROLES: readonly KafkaRole[] = ['admin', 'producer', 'pipeline'];

export const userName = (v: Binder, role: KafkaRole): string => v.str(`kafka.auth.users.${role}.name`);

export const userSecretName = (v: Binder, role: KafkaRole): string =>
  v.expr(
    `include "lakehouse.kafka.userSecretName" (dict "context" $ "role" "${role}")`,
    `lakehouse-kafka-user-${role}`,
  );

export const userSecretKey = (v: Binder, role: KafkaRole): string =>
  v.expr(`include "lakehouse.kafka.userSecretKey" (dict "context" $ "role" "${role}")`, 'password');

/**
 * LAKEHOUSE_KAFKA_PASSWORD_FILE of a role's pod: the file is named by the Secret's key (`password`,
 * or the role with kafka.auth.existingSecret), as Spark, which mounts whole Secrets, names it too.
 */
export const passwordFile = (v: Binder, role: KafkaRole): string =>
  v.expr(
    `printf "${KAFKA_USER_DIR}/%s" (include "lakehouse.kafka.userSecretKey" (dict "context" $ "role" "${role}"))`,
    settingDefault('kafkaPasswordFile'),
    { quote: true },
  );

export const caSecretName = (v: Binder): string =>
  v.expr(`include "lakehouse.kafka.caSecretName" .`, 'lakehouse-kafka-ca');

/** Whether clients mount a CA (TLS and a CA Secret) and a password (SASL), as Go-template conditions. */
export const CA_MOUNTED = `and .Values.kafka.tls.enabled (include "lakehouse.kafka.caSecretName" .)`;
export const PASSWORD_MOUNTED = '.Values.kafka.auth.enabled';

const defaultOn = (v: Binder, path: string) => v.defaultOf<boolean>(path);

/** The mounts of a client container signing in as `role` (none for a pod that does not use Kafka). */
export const kafkaClientMounts = (v: Binder, role: KafkaRole | undefined): IVolumeMount[] =>
  role === undefined
    ? []
    : [
        ...v.when(CA_MOUNTED, defaultOn(v, 'kafka.tls.enabled'), [
          { name: 'kafka-ca', mountPath: KAFKA_CA_DIR, readOnly: true },
        ]),
        ...v.when(PASSWORD_MOUNTED, defaultOn(v, 'kafka.auth.enabled'), [
          { name: 'kafka-user', mountPath: KAFKA_USER_DIR, readOnly: true },
        ]),
      ];

/** The volumes kafkaClientMounts mounts: only the CA of the CA Secret, only the role's own password. */
export const kafkaClientVolumes = (v: Binder, role: KafkaRole | undefined): IVolume[] =>
  role === undefined
    ? []
    : [
        ...v.when(CA_MOUNTED, defaultOn(v, 'kafka.tls.enabled'), [
          { name: 'kafka-ca', secret: { secretName: caSecretName(v), items: [{ key: CA_KEY, path: CA_KEY }] } },
        ]),
        ...kafkaPasswordVolume(v, role),
      ];

/** The role's password Secret (only its own key) as the volume `name`. */
export const kafkaPasswordVolume = (v: Binder, role: KafkaRole, name = 'kafka-user'): IVolume[] =>
  v.when(PASSWORD_MOUNTED, defaultOn(v, 'kafka.auth.enabled'), [
    {
      name,
      secret: {
        secretName: userSecretName(v, role),
        items: [{ key: userSecretKey(v, role), path: userSecretKey(v, role) }],
      },
    },
  ]);
