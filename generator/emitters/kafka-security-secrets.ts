// What Kafka's TLS and SCRAM users are made of: the nodes' certificate (generated once, or issued by
// cert-manager), a CA-only Secret for the clients, and one password Secret per user. Generated
// material is looked up and kept on upgrades and outlives an uninstall, like the cluster id: the
// users' credentials are formatted into Kafka's volumes with these passwords.
import { Secret } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { KAFKA_ROLES, userSecretName, type KafkaRole } from '../kafka-access.ts';
import { fullname, kafkaName, labels } from '../names.ts';

const keep = { 'helm.sh/resource-policy': 'keep' };
const PLACEHOLDER = Buffer.from('generated at install').toString('base64');

export const tlsSecretName = (v: Binder) => v.expr(`include "lakehouse.kafka.tlsSecretName" .`, 'lakehouse-kafka-tls');

const generated = (v: Binder, key: string) => v.expr(`index $tls "${key}"`, PLACEHOLDER, { quote: true });

export const kafkaGeneratedTls: Emitter = {
  file: 'templates/kafka-tls-secret.yaml',
  when: (v) => v.cond(`include "lakehouse.kafka.tlsGenerated" .`),
  preamble: () => `{{- $tls := include "lakehouse.kafka.generatedTls" . | fromYaml }}`,
  build: (v) => [
    new Secret({
      metadata: { name: tlsSecretName(v), labels: labels(v, 'kafka'), annotations: keep },
      type: 'kubernetes.io/tls',
      data: {
        'ca.crt': generated(v, 'ca.crt'),
        'tls.crt': generated(v, 'tls.crt'),
        'tls.key': generated(v, 'tls.key'),
      },
    }),
    // The clients' copy of the CA, so that no client pod mounts the nodes' private key.
    new Secret({
      metadata: { name: fullname(v, '-kafka-ca'), labels: labels(v, 'kafka') },
      type: 'Opaque',
      data: { 'ca.crt': generated(v, 'ca.crt') },
    }),
  ],
};

/** A cert-manager Certificate (no kubernetes-models class: the object is checked by cert-manager's CRD). */
class Certificate {
  readonly apiVersion = 'cert-manager.io/v1';
  readonly kind = 'Certificate';
  constructor(
    public metadata: { name: string; namespace?: string; labels?: Record<string, string> },
    readonly spec: Record<string, unknown>,
  ) {}
  validate(): void {}
  toJSON() {
    return { apiVersion: this.apiVersion, kind: this.kind, metadata: this.metadata, spec: this.spec };
  }
}

export const kafkaCertificate: Emitter = {
  file: 'templates/kafka-certificate.yaml',
  when: (v) =>
    v.cond(
      'and .Values.kafka.enabled .Values.kafka.tls.enabled (not .Values.kafka.tls.existingSecret) .Values.kafka.tls.certManager.issuerRef.name',
    ),
  onByDefault: false,
  build: (v) =>
    new Certificate(
      { name: kafkaName(v), labels: labels(v, 'kafka') },
      {
        secretName: tlsSecretName(v),
        commonName: kafkaName(v),
        dnsNames: v.block(`include "lakehouse.kafka.dnsNames" .`, ['lakehouse-kafka']),
        duration: v.str('kafka.tls.certManager.duration'),
        // Kafka's PEM keystore takes PKCS#8 keys only.
        privateKey: { algorithm: 'RSA', size: 2048, encoding: 'PKCS8', rotationPolicy: 'Always' },
        // The nodes present it as servers and, to each other's controller listener, as clients.
        usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'],
        issuerRef: {
          name: v.str('kafka.tls.certManager.issuerRef.name'),
          kind: v.str('kafka.tls.certManager.issuerRef.kind'),
          group: v.str('kafka.tls.certManager.issuerRef.group'),
        },
      },
    ),
};

const userSecret = (role: KafkaRole): Emitter => ({
  file: `templates/kafka-user-${role}-secret.yaml`,
  when: (v) => v.cond(`include "lakehouse.kafka.userGenerated" (dict "context" $ "role" "${role}")`),
  build: (v) =>
    new Secret({
      metadata: { name: userSecretName(v, role), labels: labels(v, 'kafka'), annotations: keep },
      type: 'Opaque',
      data: {
        password: v.expr(
          `include "lakehouse.kafka.generatedPassword" (dict "context" $ "role" "${role}")`,
          PLACEHOLDER,
          { quote: true },
        ),
      },
    }),
});

export const kafkaUserSecrets: readonly Emitter[] = KAFKA_ROLES.map(userSecret);
