// The chart files that are not Kubernetes objects, rendered with handlebars from skeleton/*.hbs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { defaultValues, valueRows, valuesModel } from '../schema/index.ts';
import { PIPELINE_STEPS } from './emitters/pipeline-jobs.ts';
import { SCHEDULED_STAGES } from './emitters/schedule-cronjobs.ts';
import { SCRIPT_PATH } from './job-pod.ts';
import { CURATE_POD_SUFFIX, STATUS_POD_SUFFIX, statusPodOverrides } from './status-pod.ts';
import { environments } from './environments.ts';
import { KAFKA_CLIENT_PORT, KAFKA_CONTROLLER_PORT } from './names.ts';
import { KAFKA_CA_DIR } from './kafka-access.ts';
import { RUN_AS } from './pod-security.ts';
import { SPARK_RUN_AS } from './spark-pod-templates.ts';
import { loadScanExceptions, SCAN_EXCEPTIONS_FILE } from './scan-exceptions.ts';
import {
  CATALOG_PORT,
  FULLNAME_TEMPLATE,
  OBJECTSTORE_ALIAS,
  OBJECTSTORE_CHART,
  S3_PORT,
  SECRET_KEYS,
} from './objectstore/names.ts';
import { chartLock, type ChartDependency } from './chart-lock.ts';
import { changelogMarkdown, checkReleases, RELEASES } from './releases.ts';
import { BOOTSTRAP_HOOK_WEIGHT } from './objectstore/emitters/bootstrap-job.ts';

const SKELETON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'skeleton');

export const CHART_DESCRIPTION =
  'A streaming lakehouse: Kafka (KRaft) events into bronze, silver and gold Parquet, checked by helm test.';

const handlebars = Handlebars.create();
handlebars.registerHelper('json', (value: unknown) => JSON.stringify(value));

function render(template: string, data: object): string {
  const source = readFileSync(path.join(SKELETON_DIR, template), 'utf8');
  return handlebars.compile(source, { noEscape: true, strict: true })(data);
}

/** Words in lines of at most `width` characters (a longer word on a line of its own), for a YAML folded scalar. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

export function skeletonFiles(chartVersion: string): Map<string, string> {
  checkReleases(RELEASES, chartVersion);
  const defaults = defaultValues();
  const kafkaImage = `${defaults.kafka.image.repository}:${defaults.kafka.image.tag}`;
  const jobsImage = `${defaults.jobs.image.repository}:${defaults.jobs.image.tag}`;
  const storeImage = `${defaults.objectStore.image.repository}:${defaults.objectStore.image.tag}`;
  const steps = PIPELINE_STEPS.map((s) => ({ ...s }));
  const common = {
    clientPort: KAFKA_CLIENT_PORT,
    controllerPort: KAFKA_CONTROLLER_PORT,
    steps,
    scheduledStages: SCHEDULED_STAGES,
    scriptPath: SCRIPT_PATH,
    caDir: KAFKA_CA_DIR,
  };
  const statusPod = {
    suffix: STATUS_POD_SUFFIX,
    volume: { bundled: statusPodOverrides(true, 'volume'), prebuilt: statusPodOverrides(false, 'volume') },
    rest: { bundled: statusPodOverrides(true, 'rest'), prebuilt: statusPodOverrides(false, 'rest') },
  };
  const curatePod = {
    suffix: CURATE_POD_SUFFIX,
    volume: {
      bundled: statusPodOverrides(true, 'volume', 'curate'),
      prebuilt: statusPodOverrides(false, 'volume', 'curate'),
    },
    rest: {
      bundled: statusPodOverrides(true, 'rest', 'curate'),
      prebuilt: statusPodOverrides(false, 'rest', 'curate'),
    },
  };
  const objectStore = {
    fullname: FULLNAME_TEMPLATE,
    alias: OBJECTSTORE_ALIAS,
    catalogPort: CATALOG_PORT,
    s3Port: S3_PORT,
    secretKeys: {
      accessKeyId: SECRET_KEYS.accessKeyId,
      secretAccessKey: SECRET_KEYS.secretAccessKey,
      credential: SECRET_KEYS.credential,
    },
    bootstrapWeight: BOOTSTRAP_HOOK_WEIGHT,
  };
  const dependencies: ChartDependency[] = [
    {
      name: OBJECTSTORE_CHART,
      version: chartVersion,
      repository: '',
      condition: `${OBJECTSTORE_ALIAS}.enabled`,
      alias: OBJECTSTORE_ALIAS,
    },
  ];
  return new Map([
    [
      'Chart.yaml',
      render('Chart.yaml.hbs', {
        description: CHART_DESCRIPTION,
        version: chartVersion,
        appVersion: chartVersion,
        kubeVersion: '>=1.27.0-0',
        license: 'Apache-2.0',
        keywords: ['kafka', 'kraft', 'lakehouse', 'parquet', 'streaming', 'data-pipeline'],
        maintainers: [{ name: 'lakehouse maintainers', email: 'lakehouse-maintainers@example.com' }],
        images: [
          { name: 'kafka', image: kafkaImage },
          { name: 'jobs', image: jobsImage },
          { name: 'objectstore', image: storeImage },
        ],
        dependencies,
        changes: RELEASES[0]!.changes.map((c) => ({ kind: c.kind, lines: wrapWords(c.description, 100) })),
      }),
    ],
    ['CHANGELOG.md', changelogMarkdown(RELEASES)],
    ['Chart.lock', chartLock(dependencies)],
    ['.helmignore', render('helmignore.hbs', { bundle: true })],
    ['templates/_helpers.tpl', render('_helpers.tpl.hbs', { ...common, objectStore, maxFullnameLength: 40 })],
    ['templates/validate.yaml', render('validate.yaml.hbs', {})],
    ['templates/NOTES.txt', render('NOTES.txt.hbs', { ...common, statusPod, curatePod })],
    [
      'README.md',
      render('README.md.hbs', {
        ...common,
        objectStore,
        description: CHART_DESCRIPTION,
        topic: defaults.topic.name,
        kafkaImage,
        jobsImage,
        runAs: RUN_AS,
        sparkRunAs: SPARK_RUN_AS,
        scanExceptionsFile: SCAN_EXCEPTIONS_FILE,
        scanExceptions: loadScanExceptions().map((e) => ({
          ...e,
          message: e.message ?? false,
          where: [
            e.objects?.map((o) => `\`${o}\``).join(', ') ?? 'every object',
            ...(e.renderings ? [`in ${e.renderings.map((r) => `\`${r}\``).join(', ')}`] : []),
          ].join(' '),
          reason: e.reason.replaceAll('|', '\\|'),
        })),
        environments: environments.map((e) => ({ file: e.file, purpose: e.purpose })),
        rows: valueRows(valuesModel).map((row) => ({
          ...row,
          description: row.description.replaceAll('|', '\\|'),
          default: row.default.replaceAll('|', '\\|'),
        })),
      }),
    ],
  ]);
}
