// metrics.enabled: `lakehouse.mjs metrics` as a long-running Deployment on the jobs image, serving
// Prometheus text on /metrics and /healthz, and the Service Prometheus scrapes. It only reads the
// lake (mounted read-only) and asks Kafka for end offsets.
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service, type IHTTPGetAction } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { bundleChecksumAnnotations, jobContainer, jobPodBase, jobVolumes } from '../job-pod.ts';
import { labels, metricsName, selectorLabels } from '../names.ts';

export const METRICS_PORT_NAME = 'metrics';
export const METRICS_PATH = '/metrics';
export const HEALTH_PATH = '/healthz';

export const onlyWithMetrics = (v: Binder) => v.cond('.Values.metrics.enabled');

const health: IHTTPGetAction = { path: HEALTH_PATH, port: METRICS_PORT_NAME };

export const metricsDeployment: Emitter = {
  file: 'templates/metrics-deployment.yaml',
  when: onlyWithMetrics,
  onByDefault: false,
  build: (v) =>
    new Deployment({
      metadata: { name: metricsName(v), labels: labels(v, 'metrics') },
      spec: {
        replicas: 1,
        selector: { matchLabels: selectorLabels(v, 'metrics') },
        template: {
          metadata: { labels: labels(v, 'metrics'), ...bundleChecksumAnnotations(v) },
          spec: {
            ...jobPodBase(v),
            containers: [
              {
                ...jobContainer(v, 'metrics', {
                  env: { LAKEHOUSE_METRICS_PORT: v.str('metrics.port') },
                  lake: 'readOnly',
                  resources: v.block('toYaml .Values.metrics.resources', v.defaultOf('metrics.resources')),
                }),
                ports: [{ name: METRICS_PORT_NAME, containerPort: v.int('metrics.port'), protocol: 'TCP' }],
                readinessProbe: { httpGet: health, periodSeconds: 10, timeoutSeconds: 5 },
                // Alive while it listens; ready when it answers /healthz (a probe unlike readiness, so a
                // slow answer takes it out of the Service rather than restarting it).
                livenessProbe: {
                  tcpSocket: { port: METRICS_PORT_NAME },
                  initialDelaySeconds: 10,
                  periodSeconds: 20,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                },
              },
            ],
            volumes: jobVolumes(v, 'metrics'),
          },
        },
      },
    }),
};

export const metricsService: Emitter = {
  file: 'templates/metrics-service.yaml',
  when: onlyWithMetrics,
  onByDefault: false,
  build: (v) =>
    new Service({
      metadata: { name: metricsName(v), labels: labels(v, 'metrics') },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(v, 'metrics'),
        ports: [
          { name: METRICS_PORT_NAME, port: v.int('metrics.port'), targetPort: METRICS_PORT_NAME, protocol: 'TCP' },
        ],
      },
    }),
};
