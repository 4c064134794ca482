// The pods that run the jobs' code (hook Jobs, scheduled runs, the continuous producer, the test Pod,
// and the spark-submit pods of engine spark) take no connection from anyone. With
// networkPolicy.egress they may open only DNS, Kafka's client port, with a REST catalog the object
// store (and, with engine spark, the HTTPS of the Kubernetes API and of Maven Central, which
// spark-submit needs).
import { NetworkPolicy, type INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1';
import type { Emitter } from '../emitter.ts';
import { fullname, labels, releaseSelector, type Component } from '../names.ts';
import { dnsEgress, kafkaClientEgress, lakeEgress, policyTypesWithEgress } from '../network-egress.ts';

/** Components whose pods run the jobs' code; not kafka, metrics (their own policies) nor Spark's driver and executors. */
export const JOB_COMPONENTS: readonly Component[] = [
  'topics',
  'producer',
  'bronze',
  'silver',
  'gold',
  'verify',
  'pipeline',
  'maintenance',
];

export const jobsNetworkPolicy: Emitter = {
  file: 'templates/jobs-networkpolicy.yaml',
  when: (v) => v.cond('.Values.networkPolicy.enabled'),
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: fullname(v, '-jobs'), labels: labels(v, 'jobs') },
      spec: {
        podSelector: {
          matchLabels: releaseSelector(v),
          matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...JOB_COMPONENTS] }],
        },
        ...policyTypesWithEgress(v, () => [
          dnsEgress,
          kafkaClientEgress(v),
          ...lakeEgress(v),
          ...v.when<INetworkPolicyEgressRule>(`eq .Values.engine "spark"`, v.defaultOf<string>('engine') === 'spark', [
            {
              ports: [
                { port: 443, protocol: 'TCP' },
                { port: 6443, protocol: 'TCP' },
              ],
            },
          ]),
        ]),
      },
    }),
};
