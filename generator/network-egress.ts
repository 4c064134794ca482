// What the chart's pods may open when networkPolicy.egress limits it: DNS, and Kafka (the chart's
// Kafka pods, or an external Kafka's ports, whose addresses the chart does not know).
import type {
  INetworkPolicyEgressRule,
  INetworkPolicyPort,
  INetworkPolicySpec,
} from 'kubernetes-models/networking.k8s.io/v1';
import type { Binder } from './binder.ts';
import { KAFKA_CLIENT_PORT, selectorLabels } from './names.ts';

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
