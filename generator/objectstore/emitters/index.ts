import type { Emitter } from '../../emitter.ts';
import { bootstrapJob } from './bootstrap-job.ts';
import { bootstrapNetworkPolicy, storeNetworkPolicy } from './network-policies.ts';
import { storeSecret } from './secret.ts';
import { catalogService, headlessService, s3Service } from './services.ts';
import { storeStatefulSet } from './statefulset.ts';

export const objectStoreEmitters: readonly Emitter[] = [
  storeSecret,
  headlessService,
  s3Service,
  catalogService,
  storeStatefulSet,
  storeNetworkPolicy,
  bootstrapNetworkPolicy,
  bootstrapJob,
];
