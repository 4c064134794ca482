// The Kafka pods the chart's StatefulSet would create, resolved the way the kubelet resolves them:
// pod name and hostname from the ordinal, fieldRef and secretKeyRef values, $(VAR) references.
import type { RenderedObject } from './rendered.ts';

export interface KafkaPod {
  readonly name: string;
  readonly ordinal: number;
  /** The container's command and arguments, as rendered. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** mountPath -> volume name (claim templates and pod volumes alike); plain data, it crosses into the sandbox as JSON. */
  readonly mounts: Readonly<Record<string, string>>;
  /** Files of the Secret volumes, by the path the container sees them at. */
  readonly secretFiles: Readonly<Record<string, string>>;
  readonly ports: readonly number[];
}

const statefulSet = (objects: readonly RenderedObject[]): RenderedObject => {
  const found = objects.filter((o) => o.kind === 'StatefulSet');
  if (found.length !== 1) throw new Error(`expected one StatefulSet, found ${found.length}`);
  return found[0]!;
};

function secretValue(objects: readonly RenderedObject[], name: string, key: string): string {
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  const data = secret?.data?.[key];
  if (data === undefined) throw new Error(`secretKeyRef ${name}/${key}: the chart renders no such Secret key`);
  return Buffer.from(data, 'base64').toString('utf8');
}

// The kubelet expands $(NAME) with variables defined earlier in the list; $$ escapes a dollar.
const expand = (value: string, env: Record<string, string>): string =>
  value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name?: string) =>
    match === '$$' ? '$' : name !== undefined && name in env ? env[name]! : match,
  );

export function kafkaPods(objects: readonly RenderedObject[], namespace: string): KafkaPod[] {
  const sts = statefulSet(objects);
  const podSpec = sts.spec.template.spec;
  const [container] = podSpec.containers;
  return Array.from({ length: sts.spec.replicas }, (_, ordinal) => {
    const name = `${sts.metadata.name}-${ordinal}`;
    const env: Record<string, string> = { HOSTNAME: name };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = name;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
      else if (e.valueFrom?.secretKeyRef)
        env[e.name] = secretValue(objects, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
      else throw new Error(`${name}: cannot resolve env ${e.name}`);
    }
    const secretFiles: Record<string, string> = {};
    for (const mount of container.volumeMounts ?? []) {
      const secret = (podSpec.volumes ?? []).find((vol: any) => vol.name === mount.name)?.secret;
      if (!secret) continue;
      for (const item of secret.items ?? [])
        secretFiles[`${mount.mountPath}/${item.path}`] = secretValue(objects, secret.secretName, item.key);
    }
    return {
      name,
      ordinal,
      secretFiles,
      argv: [...(container.command ?? []), ...(container.args ?? [])],
      env,
      mounts: Object.fromEntries((container.volumeMounts ?? []).map((m: any) => [m.mountPath, m.name])),
      ports: (container.ports ?? []).map((p: any) => p.containerPort),
    };
  });
}

/** DNS names the pods and Services of the chart would have in `namespace`. */
export function kafkaDnsNames(
  objects: readonly RenderedObject[],
  namespace: string,
): { pods: Map<string, string[]>; services: string[] } {
  const sts = statefulSet(objects);
  const headless = sts.spec.serviceName;
  const pods = new Map(
    Array.from({ length: sts.spec.replicas }, (_, i) => {
      const pod = `${sts.metadata.name}-${i}`;
      const names: string[] = [
        pod,
        `${pod}.${headless}.${namespace}.svc`,
        `${pod}.${headless}.${namespace}.svc.cluster.local`,
      ];
      return [pod, names] as const;
    }),
  );
  const services = objects
    .filter((o) => o.kind === 'Service')
    .flatMap((s) => [`${s.metadata.name}.${namespace}.svc`, `${s.metadata.name}.${namespace}.svc.cluster.local`]);
  return { pods, services };
}
