// The pipeline as Helm hooks: after every install and upgrade, one Job per step, run one at a time
// in weight order; each Job blocks the next until it has succeeded.
import { Job } from 'kubernetes-models/batch/v1';
import type { IPodSpec } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { jobPodSpec, type LakehouseCommand } from '../job-pod.ts';
import { fullname, labels, type Component } from '../names.ts';
import { CONTINUOUS_PRODUCER } from './producer-deployment.ts';

export interface PipelineStep {
  readonly component: Component;
  readonly command: LakehouseCommand;
  readonly weight: number;
}

export const PIPELINE_STEPS: readonly PipelineStep[] = [
  { component: 'topics', command: 'topics', weight: 10 },
  { component: 'producer', command: 'produce', weight: 20 },
  { component: 'bronze', command: 'bronze', weight: 30 },
  { component: 'silver', command: 'silver', weight: 40 },
  { component: 'gold', command: 'gold', weight: 50 },
];

/** The stages that `engine: spark` runs on Spark instead (emitters/spark-stage-jobs.ts). */
const ENGINE_STAGES: readonly LakehouseCommand[] = ['bronze', 'silver', 'gold'];

/** A pipeline step as a post-install/post-upgrade hook Job running `podSpec`. */
export const pipelineHookJob = (v: Binder, step: PipelineStep, podSpec: IPodSpec): Job =>
  new Job({
    metadata: {
      name: fullname(v, `-${step.component}`),
      labels: labels(v, step.component),
      annotations: {
        'helm.sh/hook': 'post-install,post-upgrade',
        'helm.sh/hook-weight': String(step.weight),
        // Recreated on each upgrade (a Job's pod template is immutable); kept after success so its
        // logs can be read. No short ttlSecondsAfterFinished: Helm must see the Job complete.
        'helm.sh/hook-delete-policy': 'before-hook-creation',
      },
    },
    spec: {
      backoffLimit: v.int('jobs.backoffLimit'),
      activeDeadlineSeconds: v.int('jobs.activeDeadlineSeconds'),
      template: {
        metadata: { labels: labels(v, step.component) },
        spec: podSpec,
      },
    },
  });

/** When a step's hook Job renders: the engine stages on the node engine only, the producer in mode `once` only. */
const hookCondition = (step: PipelineStep): string | undefined => {
  if (ENGINE_STAGES.includes(step.command)) return `eq .Values.engine "node"`;
  if (step.command === 'produce') return `not (${CONTINUOUS_PRODUCER})`;
  return undefined;
};

const hookJob = (step: PipelineStep): Emitter => {
  const condition = hookCondition(step);
  return {
    file: `templates/job-${step.weight}-${step.component}.yaml`,
    ...(condition ? { when: (v: Binder) => v.cond(condition), onByDefault: true } : {}),
    build: (v) => pipelineHookJob(v, step, jobPodSpec(v, step.command)),
  };
};

export const pipelineJobs: readonly Emitter[] = PIPELINE_STEPS.map(hookJob);
