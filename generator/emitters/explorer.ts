// explorer.enabled: `lakehouse.mjs explore` as a long-running Deployment on the jobs image, serving
// the read-only lake explorer page (jobs/explorer/) and /healthz, its Service, a NetworkPolicy
// admitting this release's pods and explorer.networkPolicy's selectors, and an optional Ingress. It
// only reads the lake (mounted read-only on a volume lake) and asks Kafka for end offsets (freshness).
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Service, type IHTTPGetAction } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { bundleChecksumAnnotations, jobContainer, jobPodBase, jobVolumes } from '../job-pod.ts';
import { explorerName, labels, releaseSelector, selectorLabels } from '../names.ts';
import { dnsEgress, kafkaClientEgress, lakeEgress, policyTypesWithEgress } from '../network-egress.ts';

export const EXPLORER_PORT_NAME = 'http';
const health: IHTTPGetAction = { path: '/healthz', port: EXPLORER_PORT_NAME };

const onlyWithExplorer = (v: Binder) => v.cond('.Values.explorer.enabled');

export const explorerDeployment: Emitter = {
  file: 'templates/explorer-deployment.yaml',
  when: onlyWithExplorer,
  onByDefault: false,
  build: (v) =>
    new Deployment({
      metadata: { name: explorerName(v), labels: labels(v, 'explorer') },
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(v, 'explorer') },
        template: {
          metadata: { labels: labels(v, 'explorer'), ...bundleChecksumAnnotations(v) },
          spec: {
            ...jobPodBase(v),
            containers: [
              {
                ...jobContainer(v, 'explore', {
                  env: { LAKEHOUSE_EXPLORER_PORT: v.str('explorer.port') },
                  lake: 'readOnly',
                  resources: v.block('toYaml .Values.explorer.resources', v.defaultOf('explorer.resources')),
                }),
                ports: [{ name: EXPLORER_PORT_NAME, containerPort: v.int('explorer.port'), protocol: 'TCP' }],
                readinessProbe: { httpGet: health, periodSeconds: 10, timeoutSeconds: 5 },
                // Alive while it listens; ready when it answers /healthz (as the metrics exporter).
                livenessProbe: {
                  tcpSocket: { port: EXPLORER_PORT_NAME },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                },
              },
            ],
            volumes: jobVolumes(v, 'explore', { lake: true }),
          },
        },
      },
    }),
};

export const explorerService: Emitter = {
  file: 'templates/explorer-service.yaml',
  when: onlyWithExplorer,
  onByDefault: false,
  build: (v) =>
    new Service({
      metadata: { name: explorerName(v), labels: labels(v, 'explorer') },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(v, 'explorer'),
        ports: [
          { name: EXPLORER_PORT_NAME, port: v.int('explorer.port'), targetPort: EXPLORER_PORT_NAME, protocol: 'TCP' },
        ],
      },
    }),
};

export const explorerNetworkPolicy: Emitter = {
  file: 'templates/explorer-networkpolicy.yaml',
  when: (v) => v.cond('and .Values.explorer.enabled .Values.networkPolicy.enabled'),
  onByDefault: false,
  build: (v) =>
    new NetworkPolicy({
      metadata: { name: explorerName(v), labels: labels(v, 'explorer') },
      spec: {
        podSelector: { matchLabels: selectorLabels(v, 'explorer') },
        // With networkPolicy.egress it opens only DNS, Kafka (for the lag) and the object store.
        ...policyTypesWithEgress(v, () => [dnsEgress, kafkaClientEgress(v), ...lakeEgress(v)]),
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: releaseSelector(v) } },
              ...v.when('.Values.explorer.networkPolicy.namespaceSelector', false, [
                {
                  namespaceSelector: {
                    matchLabels: v.block(
                      'toYaml .Values.explorer.networkPolicy.namespaceSelector',
                      v.defaultOf<Record<string, string>>('explorer.networkPolicy.namespaceSelector'),
                    ),
                  },
                  podSelector: {
                    matchLabels: v.block(
                      'toYaml .Values.explorer.networkPolicy.podSelector',
                      v.defaultOf<Record<string, string>>('explorer.networkPolicy.podSelector'),
                    ),
                  },
                },
              ]),
            ],
            ports: [{ port: EXPLORER_PORT_NAME, protocol: 'TCP' }],
          },
        ],
      },
    }),
};

export const explorerIngress: Emitter = {
  file: 'templates/explorer-ingress.yaml',
  when: (v) => v.cond('and .Values.explorer.enabled .Values.explorer.ingress.enabled'),
  onByDefault: false,
  build: (v) =>
    new Ingress({
      metadata: {
        name: explorerName(v),
        labels: labels(v, 'explorer'),
        ...v.whenKeys('.Values.explorer.ingress.annotations', false, {
          annotations: v.block(
            'toYaml .Values.explorer.ingress.annotations',
            v.defaultOf<Record<string, string>>('explorer.ingress.annotations'),
          ),
        }),
      },
      spec: {
        ...v.whenKeys('.Values.explorer.ingress.className', false, {
          ingressClassName: v.str('explorer.ingress.className'),
        }),
        // TLS for the host (a certificate names one).
        ...v.whenKeys('and .Values.explorer.ingress.tlsSecretName .Values.explorer.ingress.host', false, {
          tls: [{ hosts: [v.str('explorer.ingress.host')], secretName: v.str('explorer.ingress.tlsSecretName') }],
        }),
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: explorerName(v), port: { name: EXPLORER_PORT_NAME } } },
                },
              ],
            },
            ...v.whenKeys('.Values.explorer.ingress.host', false, { host: v.str('explorer.ingress.host') }),
          },
        ],
      },
    }),
};
