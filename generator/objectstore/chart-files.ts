// The object store chart, vendored in the lakehouse chart as charts/objectstore: its templates from
// its emitters (validated as the lakehouse chart's are), its helpers, Chart.yaml, README, values
// and schema, all from schema/objectstore-values.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import {
  defaultsOf,
  objectStoreModel,
  toJsonSchema,
  toValuesYaml,
  valueRows,
  type ObjectStoreValues,
} from '../../schema/index.ts';
import { emit } from '../emitter.ts';
import { RUN_AS } from '../pod-security.ts';
import { BOOTSTRAP_HOOK_WEIGHT } from './emitters/bootstrap-job.ts';
import { objectStoreEmitters } from './emitters/index.ts';
import {
  CATALOG_PORT,
  FULLNAME_TEMPLATE,
  OBJECTSTORE_ALIAS,
  OBJECTSTORE_CHART,
  S3_IDENTITY,
  S3_PORT,
  SECRET_KEYS,
} from './names.ts';

export const OBJECTSTORE_DIR = `charts/${OBJECTSTORE_CHART}`;
const SKELETON_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'skeleton');
const HELMIGNORE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'skeleton', 'helmignore.hbs');

export const OBJECTSTORE_DESCRIPTION =
  "SeaweedFS serving S3 and an Iceberg REST catalog for the lakehouse's tables: one weed server on its own volume, generated keys, a hook Job creating the table bucket.";

const handlebars = Handlebars.create();
handlebars.registerHelper('json', (value: unknown) => JSON.stringify(value));
const render = (file: string, data: object) =>
  handlebars.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true })(data);

/** SeaweedFS's version in the default image's tag (`4.48_large_disk`: 4.48). */
export const seaweedfsVersion = (tag: string) => tag.replace(/_.*$/, '');

export interface ObjectStoreChart {
  /** Files relative to the lakehouse chart (under charts/objectstore/). */
  readonly files: Map<string, string>;
  /** The values paths the templates and helpers read, relative to the store's values. */
  readonly values: ReadonlySet<string>;
  /** Its helpers, for the values coverage check. */
  readonly helpers: string;
}

export function objectStoreChart(chartVersion: string): ObjectStoreChart {
  const defaults = defaultsOf(objectStoreModel) as ObjectStoreValues;
  const image = `${defaults.image.repository}:${defaults.image.tag}`;
  const keys = SECRET_KEYS;
  const common = { name: OBJECTSTORE_CHART, keys, s3Port: S3_PORT, catalogPort: CATALOG_PORT };
  const files = new Map<string, string>();
  const values = new Set<string>();
  for (const emitter of objectStoreEmitters) {
    const template = emit(emitter, objectStoreModel);
    files.set(template.file, template.content);
    for (const p of template.values) values.add(p);
  }
  const helpers = render(path.join(SKELETON_DIR, '_helpers.tpl.hbs'), {
    ...common,
    fullname: FULLNAME_TEMPLATE,
    identity: S3_IDENTITY,
  });
  files.set('templates/_helpers.tpl', helpers);
  files.set('templates/NOTES.txt', render(path.join(SKELETON_DIR, 'NOTES.txt.hbs'), { ...common, rbrace: '}' }));
  files.set(
    'Chart.yaml',
    render(path.join(SKELETON_DIR, 'Chart.yaml.hbs'), {
      ...common,
      description: OBJECTSTORE_DESCRIPTION,
      version: chartVersion,
      appVersion: seaweedfsVersion(defaults.image.tag),
      kubeVersion: '>=1.27.0-0',
      license: 'Apache-2.0',
      keywords: ['s3', 'iceberg', 'seaweedfs', 'object-storage', 'lakehouse'],
      maintainers: [{ name: 'lakehouse maintainers', email: 'lakehouse-maintainers@example.com' }],
      image,
    }),
  );
  files.set(
    'README.md',
    render(path.join(SKELETON_DIR, 'README.md.hbs'), {
      ...common,
      description: OBJECTSTORE_DESCRIPTION,
      alias: OBJECTSTORE_ALIAS,
      image,
      runAs: RUN_AS,
      bootstrapWeight: BOOTSTRAP_HOOK_WEIGHT,
      rows: valueRows(objectStoreModel).map((row) => ({
        ...row,
        description: row.description.replaceAll('|', '\\|'),
        default: row.default.replaceAll('|', '\\|'),
      })),
    }),
  );
  files.set('.helmignore', render(HELMIGNORE, { bundle: false }));
  files.set('values.yaml', toValuesYaml(objectStoreModel, OBJECTSTORE_CHART, 'schema/objectstore-values.ts'));
  files.set('values.schema.json', JSON.stringify(toJsonSchema(objectStoreModel), null, 2) + '\n');
  return {
    files: new Map([...files].map(([file, content]) => [`${OBJECTSTORE_DIR}/${file}`, content])),
    values,
    helpers,
  };
}
