// What the chart's pods may open when networkPolicy.egress limits it: DNS, Kafka (the chart's
// Kafka pods, or an external Kafka's ports, whose addresses the chart does not know) and, with a
// REST catalog, the object store (the embedded store's pods, or an existing one's ports).
import type {
  INetworkPolicyEgressRule,
  INetworkPolicyPort,
  INetworkPolicySpec,
} from 'kubernetes-models/networking.k8s.io/v1';
import type { Binder } from './binder.ts';
import { REST_LAKE } from './lake-backend.ts';
import { KAFKA_CLIENT_PORT, selectorLabels } from './names.ts';
import { CATALOG_PORT, S3_PORT, storeSelector } from './objectstore/names.ts';

export const dnsEgress: INetworkPolicyEgressRule = {
  ports: [
    { port: 53, protocol: 'UDP' },
    { port: 53, protocol: 'TCP' },
  ],
};

export const kafkaClientEgress = (v: Binder): INetworkPolicyEgressRule => ({
  ports: v.block<INetworkPolicyPort[]>(`include "lakehouse.kafka.clientPorts" . | trim`, [
    { port: KAFKA_CLIENT_PORT, protocol: 'TCP' },
  ]),
  ...v.whenKeys('.Values.kafka.enabled', v.defaultOf<boolean>('kafka.enabled'), {
    to: [{ podSelector: { matchLabels: selectorLabels(v, 'kafka') } }],
  }),
});

/** The lake's catalog and storage with lake.catalog rest; nothing on a volume. */
export const lakeEgress = (v: Binder): INetworkPolicyEgressRule[] => [
  ...v.when<INetworkPolicyEgressRule>(`and (${REST_LAKE}) .Values.objectStore.enabled`, false, [
    {
      ports: [
        { port: S3_PORT, protocol: 'TCP' },
        { port: CATALOG_PORT, protocol: 'TCP' },
      ],
      to: [{ podSelector: { matchLabels: storeSelector(v, 'server') } }],
    },
  ]),
  ...v.when<INetworkPolicyEgressRule>(`and (${REST_LAKE}) (not .Values.objectStore.enabled)`, false, [
    {
      ports: v.block<INetworkPolicyPort[]>(`include "lakehouse.lake.endpointPorts" . | trim`, [
        { port: 443, protocol: 'TCP' },
      ]),
    },
  ]),
];

/** policyTypes and egress of a policy: Ingress always, Egress with `rules` when networkPolicy.egress is on. */
export const policyTypesWithEgress = (
  v: Binder,
  rules: () => INetworkPolicyEgressRule[],
): Pick<INetworkPolicySpec, 'policyTypes' | 'egress'> => {
  const on = v.defaultOf<boolean>('networkPolicy.egress');
  return {
    policyTypes: ['Ingress', ...v.when<'Egress'>('.Values.networkPolicy.egress', on, ['Egress'])],
    ...v.whenKeys('.Values.networkPolicy.egress', on, { egress: rules() }),
  };
};
