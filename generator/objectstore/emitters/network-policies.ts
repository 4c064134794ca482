// Who reaches the store: the pods of this Helm release (the lakehouse's jobs, test Pod, exporter,
// Spark driver and executors, the status pod) its S3 and catalog ports; the bootstrap Job also
// the master's and filer's gRPC ports, which `weed shell` uses; nobody else anything. The
// bootstrap Job itself takes no connection. With networkPolicy.egress, the store opens only DNS
// (its components reach each other on its own address) and the bootstrap Job DNS and the store.
import {
  NetworkPolicy,
  type INetworkPolicyEgressRule,
  type INetworkPolicySpec,
} from 'kubernetes-models/networking.k8s.io/v1';
import type { Binder } from '../../binder.ts';
import type { Emitter } from '../../emitter.ts';
import { dnsEgress } from '../../network-egress.ts';
import { fullname, labels, releasePods, selectorLabels } from '../chart-names.ts';
import { CATALOG_PORT, FILER_GRPC_PORT, MASTER_GRPC_PORT, MASTER_PORT, S3_PORT } from '../names.ts';

const tcp = (port: number) => ({ port, protocol: 'TCP' as const });
const SHELL_PORTS = [MASTER_PORT, MASTER_GRPC_PORT, FILER_GRPC_PORT].map(tcp);

const withEgress = (
  v: Binder,
  rules: INetworkPolicyEgressRule[],
): Pick<INetworkPolicySpec, 'policyTypes' | 'egress'> => {
  const on = v.defaultOf<boolean>('networkPolicy.egress');
  return {
    policyTypes: ['Ingress', ...v.when<'Egress'>('.Values.networkPolicy.egress', on, ['Egress'])],
    ...v.whenKeys('.Values.networkPolicy.egress', on, { egress: rules }),
  };
};

const enabled = (v: Binder) => v.cond('and .Values.enabled .Values.networkPolicy.enabled');

export const storeNetworkPolicy: Emitter = {
  file: 'templates/networkpolicy.yaml',
  when: enabled,
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: fullname(v), labels: labels(v, 'server') },
      spec: {
        podSelector: { matchLabels: selectorLabels(v, 'server') },
        ...withEgress(v, [dnsEgress]),
        ingress: [
          { from: [{ podSelector: { matchLabels: releasePods(v) } }], ports: [tcp(S3_PORT), tcp(CATALOG_PORT)] },
          { from: [{ podSelector: { matchLabels: selectorLabels(v, 'bootstrap') } }], ports: SHELL_PORTS },
        ],
      },
    }),
};

export const bootstrapNetworkPolicy: Emitter = {
  file: 'templates/networkpolicy-bootstrap.yaml',
  when: enabled,
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: fullname(v, '-bootstrap'), labels: labels(v, 'bootstrap') },
      spec: {
        podSelector: { matchLabels: selectorLabels(v, 'bootstrap') },
        ...withEgress(v, [
          dnsEgress,
          { ports: SHELL_PORTS, to: [{ podSelector: { matchLabels: selectorLabels(v, 'server') } }] },
        ]),
      },
    }),
};
