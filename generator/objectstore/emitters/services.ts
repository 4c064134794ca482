// The store's Services: S3 and the Iceberg REST catalog for the lake's clients, and the headless
// Service that gives the pod the stable name SeaweedFS advertises itself under (-ip), resolvable
// before the pod is ready, since its components find each other by it while starting.
import { Service, type IServicePort } from 'kubernetes-models/v1';
import type { Binder } from '../../binder.ts';
import type { Emitter } from '../../emitter.ts';
import { fullname, headlessName, labels, selectorLabels } from '../chart-names.ts';
import {
  CATALOG_PORT,
  FILER_GRPC_PORT,
  FILER_PORT,
  MASTER_GRPC_PORT,
  MASTER_PORT,
  S3_GRPC_PORT,
  S3_PORT,
  VOLUME_GRPC_PORT,
  VOLUME_PORT,
} from '../names.ts';

/** Every port the store listens on, by name: the containerPorts and the headless Service's ports. */
export const STORE_PORTS: readonly { readonly name: string; readonly port: number }[] = [
  { name: 's3', port: S3_PORT },
  { name: 'catalog', port: CATALOG_PORT },
  { name: 'master', port: MASTER_PORT },
  { name: 'master-grpc', port: MASTER_GRPC_PORT },
  { name: 'volume', port: VOLUME_PORT },
  { name: 'volume-grpc', port: VOLUME_GRPC_PORT },
  { name: 'filer', port: FILER_PORT },
  { name: 'filer-grpc', port: FILER_GRPC_PORT },
  { name: 's3-grpc', port: S3_GRPC_PORT },
];

const servicePort = (name: string, port: number): IServicePort => ({ name, port, targetPort: name, protocol: 'TCP' });

const onlyEnabled = { when: (v: Binder) => v.cond('.Values.enabled') };

export const headlessService: Emitter = {
  file: 'templates/service-headless.yaml',
  ...onlyEnabled,
  build: (v) =>
    new Service({
      metadata: { name: headlessName(v), labels: labels(v, 'server') },
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: selectorLabels(v, 'server'),
        ports: STORE_PORTS.map((p) => servicePort(p.name, p.port)),
      },
    }),
};

const clientService = (name: 's3' | 'catalog', port: number): Emitter => ({
  file: `templates/service-${name}.yaml`,
  ...onlyEnabled,
  build: (v) =>
    new Service({
      metadata: { name: fullname(v, `-${name}`), labels: labels(v, 'server') },
      spec: { type: 'ClusterIP', selector: selectorLabels(v, 'server'), ports: [servicePort(name, port)] },
    }),
});

export const s3Service = clientService('s3', S3_PORT);
export const catalogService = clientService('catalog', CATALOG_PORT);
