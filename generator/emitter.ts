// An emitter builds one chart template from kubernetes-models objects. It is run twice through
// the same code: with the default values (the objects are validated by their classes) and with
// tokens (the objects are serialised and the tokens become Go templates).
import type { ObjectNode } from '../schema/index.ts';
import { createBinder, type Binder } from './binder.ts';
import { renderTemplate } from './render.ts';

interface Validatable {
  validate(): void;
  toJSON(): unknown;
  metadata?: { name?: string; namespace?: string };
}

export interface Emitter {
  /** Path of the template inside the chart, e.g. `templates/kafka-statefulset.yaml`. */
  readonly file: string;
  /** Go-template condition under which the whole file renders. */
  readonly when?: (v: Binder) => string;
  /** Whether `when` holds with the default values (only then are the objects validated). */
  readonly onByDefault?: boolean;
  /** Go-template lines run before the objects (e.g. a variable two objects of the file share). */
  readonly preamble?: (v: Binder) => string;
  /** The template's object, or objects (written as one file, in order). */
  readonly build: (v: Binder) => Validatable | readonly Validatable[];
}

export interface EmittedTemplate {
  readonly file: string;
  readonly content: string;
  /** The values paths this template reads. */
  readonly values: ReadonlySet<string>;
}

export class EmitError extends Error {
  constructor(file: string, cause: unknown) {
    super(`generator: ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The object in the release's namespace, written out (every object the chart makes is namespaced),
 * so that it stays there whatever namespace a tool applying the rendered manifests defaults to.
 */
function inReleaseNamespace<T extends Validatable>(v: Binder, object: T): T {
  const { name, ...rest } = object.metadata ?? {};
  object.metadata = { name, namespace: v.expr('.Release.Namespace', 'lakehouse'), ...rest };
  return object;
}

/** `model`: the values of the chart the template belongs to (the lakehouse chart's by default). */
export function emit(emitter: Emitter, model?: ObjectNode): EmittedTemplate {
  try {
    const build = (v: Binder) => {
      const built = emitter.build(v);
      return (Array.isArray(built) ? built : [built]).map((o: Validatable) => inReleaseNamespace(v, o));
    };
    for (const object of build(createBinder('defaults', model))) object.validate();
    const v = createBinder('template', model);
    const preamble = emitter.preamble ? `${emitter.preamble(v)}\n` : '';
    const body =
      preamble +
      build(v)
        .map((o) => renderTemplate(o.toJSON(), v.tokens))
        .join('---\n');
    const condition = emitter.when?.(v);
    const content = condition ? `{{- if ${condition} }}\n${body}{{- end }}\n` : body;
    return { file: emitter.file, content, values: v.usedPaths };
  } catch (error) {
    throw new EmitError(emitter.file, error);
  }
}
