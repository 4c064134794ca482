export { valuesModel, type Values } from './values.ts';
export { objectStoreModel, type ObjectStoreValues } from './objectstore-values.ts';
export { defaultsOf } from './defaults.ts';
export { toJsonSchema, KUBERNETES_QUANTITY_PATTERN } from './json-schema.ts';
export { toValuesYaml } from './values-yaml.ts';
export { valueRows, type ValueRow } from './docs-table.ts';
export { leaves, nodeAt, type Node, type ObjectNode } from './define.ts';

import { valuesModel, type Values } from './values.ts';
import { defaultsOf } from './defaults.ts';

/** The chart's default values, typed. */
export const defaultValues = (): Values => defaultsOf(valuesModel) as Values;
