// The lake keeping itself up to date: the pipeline (bronze -> silver -> gold) and table maintenance
// as CronJobs beside the install/upgrade hooks. Runs never overlap their own CronJob (Forbid); a
// pipeline run that finds another writer holding the lake (a hook run, maintenance) skips at once
// instead of queueing, and the next scheduled run picks up what it left.
import { CronJob } from 'kubernetes-models/batch/v1';
import type { IPodSpec } from 'kubernetes-models/v1';
import type { Binder } from '../binder.ts';
import type { Emitter } from '../emitter.ts';
import { jobPodSpec } from '../job-pod.ts';
import { fullname, labels, type Component } from '../names.ts';
import { SPARK_STAGES, sparkSubmitPodSpec } from './spark-stage-jobs.ts';

/** Scheduled pipeline runs do not wait for the lake's lease: the next run comes soon enough. */
export const SCHEDULED_RUN_ENV = { LAKEHOUSE_LEASE_WAIT_SECONDS: '0' } as const;

/** The stages a scheduled pipeline run goes through, in order. */
export const SCHEDULED_STAGES = SPARK_STAGES;

type SchedulePath = 'schedule.pipeline' | 'schedule.maintenance';

const scheduledJob = (v: Binder, component: Component, schedule: SchedulePath, podSpec: IPodSpec): CronJob =>
  new CronJob({
    metadata: { name: fullname(v, `-${component}`), labels: labels(v, component) },
    spec: {
      schedule: v.str(schedule),
      ...v.whenKeys('.Values.schedule.timeZone', false, { timeZone: v.str('schedule.timeZone') }),
      concurrencyPolicy: 'Forbid',
      suspend: v.block('toYaml .Values.schedule.suspend', v.defaultOf<boolean>('schedule.suspend')),
      startingDeadlineSeconds: v.int('schedule.startingDeadlineSeconds'),
      successfulJobsHistoryLimit: v.int('schedule.successfulJobsHistoryLimit'),
      failedJobsHistoryLimit: v.int('schedule.failedJobsHistoryLimit'),
      jobTemplate: {
        metadata: { labels: labels(v, component) },
        spec: {
          backoffLimit: v.int('schedule.backoffLimit'),
          activeDeadlineSeconds: v.int('schedule.activeDeadlineSeconds'),
          template: { metadata: { labels: labels(v, component) }, spec: podSpec },
        },
      },
    },
  });

export const pipelineCronJob: Emitter = {
  file: 'templates/cronjob-pipeline.yaml',
  when: (v) => v.cond(`and .Values.schedule.pipeline (eq .Values.engine "node")`),
  onByDefault: false,
  build: (v) =>
    scheduledJob(v, 'pipeline', 'schedule.pipeline', jobPodSpec(v, SCHEDULED_STAGES, { env: SCHEDULED_RUN_ENV })),
};

export const sparkPipelineCronJob: Emitter = {
  file: 'templates/cronjob-pipeline-spark.yaml',
  when: (v) => v.cond(`and .Values.schedule.pipeline (eq .Values.engine "spark")`),
  onByDefault: false,
  build: (v) =>
    scheduledJob(v, 'pipeline', 'schedule.pipeline', sparkSubmitPodSpec(v, SCHEDULED_STAGES, SCHEDULED_RUN_ENV)),
};

/**
 * Maintenance is Node code whatever the engine. Unlike a pipeline run it waits for the lease
 * (pipeline.leaseWaitSeconds, as the hooks do): it often starts in the same minute as a pipeline
 * run, and skipping it would put compaction off by a whole maintenance interval, not one minute.
 */
export const maintenanceCronJob: Emitter = {
  file: 'templates/cronjob-maintenance.yaml',
  when: (v) => v.cond('.Values.schedule.maintenance'),
  onByDefault: false,
  build: (v) => scheduledJob(v, 'maintenance', 'schedule.maintenance', jobPodSpec(v, 'maintain')),
};

export const scheduleCronJobs: readonly Emitter[] = [pipelineCronJob, sparkPipelineCronJob, maintenanceCronJob];
