// The chart's release history, newest first: the source of chart/CHANGELOG.md and of Chart.yaml's
// `artifacthub.io/changes` (the newest release's). The newest release's version is package.json's,
// which is the chart's version; a change to chart/ needs a new release here
// (ci/chart/version-check.ts fails CI otherwise).
import { compareSemVer, parseSemVer } from './semver.ts';

/** Artifact Hub's change kinds (artifacthub.io/changes). */
export const CHANGE_KINDS = ['added', 'changed', 'deprecated', 'removed', 'fixed', 'security'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface Change {
  readonly kind: ChangeKind;
  readonly description: string;
}

export interface Release {
  readonly version: string;
  readonly changes: readonly Change[];
}

export const RELEASES: readonly Release[] = [
  {
    version: '0.3.3',
    changes: [
      {
        kind: 'changed',
        description: 'The jobs bundle builds a silver row in one place for silver and replay; no change in behaviour.',
      },
    ],
  },
  {
    version: '0.3.2',
    changes: [
      {
        kind: 'changed',
        description:
          "The jobs bundle patches three more KafkaJS hot spots (timestamp deltas without BigInt Longs, a slicing-by-8 CRC-32C, a record decoder that adds offsets and timestamps as numbers: the same bytes and records); silver de-duplicates a day by positions in its spill and reads the next day while the Parquet worker closes the last one's file (the same lake, byte for byte, with less memory).",
      },
    ],
  },
  {
    version: '0.3.1',
    changes: [
      {
        kind: 'changed',
        description:
          'The jobs bundle reads the own flags of rollback, forget and replay through one mechanism (each command declares its flags and checks its arguments before the lease); no change in behaviour.',
      },
    ],
  },
  {
    version: '0.3.0',
    changes: [
      {
        kind: 'added',
        description:
          'Curating the lake: replay re-validates the quarantine under the current settings and moves what now passes to silver and gold once; rollback --to <time | gold snapshot id> sets every table back to a consistent cut (history kept, bronze offsets with it, refused when Kafka no longer holds what it drops unless --accept-loss); forget --vehicle ID erases vehicles from every table, retained snapshot and file, recording the erased offsets for verify. NOTES.txt gives a one-off curation pod with the lake writable.',
      },
      {
        kind: 'added',
        description:
          'explorer.enabled deploys the read-only lake explorer (lakehouse.mjs explore: the tables with time travel, gold, the quarantine, freshness and the vehicles on a map of Paris) as a restricted Deployment with the lake mounted read-only, a Service, a NetworkPolicy admitting explorer.networkPolicy and an optional Ingress.',
      },
    ],
  },
  {
    version: '0.2.0',
    changes: [
      {
        kind: 'added',
        description:
          'The lake in an Iceberg REST catalog on S3-compatible storage (lake.catalog: rest), embedded (SeaweedFS, objectStore.enabled) or existing (lake.rest); no lake volume then, so Spark executors run on any node.',
      },
      {
        kind: 'added',
        description:
          'The chart is packaged with provenance (helm package --sign, helm verify) and installable from an OCI registry; this changelog.',
      },
      {
        kind: 'added',
        description:
          'The Spark stages take the lake writer lease and record every run in ops.runs, so status, the exporter and the alerts see them.',
      },
      {
        kind: 'changed',
        description:
          'The continuous producer sends per partition through idempotent producers (exactly what Kafka acknowledged, even across a broker restart) and is ready only after Kafka acknowledged its first events; its init container creates the topic and ACLs, so helm install --wait returns with events in Kafka.',
      },
      {
        kind: 'changed',
        description:
          "The jobs bundle ships Brotli-compressed in its ConfigMap, keeping the release under Helm's 1 MiB limit.",
      },
      {
        kind: 'fixed',
        description:
          'Bronze records the topic id and refuses a topic deleted and created again; the group offsets are committed in one request; the topics Job waits for partition leaders.',
      },
      {
        kind: 'security',
        description:
          "Paths read from table metadata must stay inside the table's location; a damaged current snapshot, manifest list or data file fails helm test naming it.",
      },
    ],
  },
  {
    version: '0.1.0',
    changes: [
      {
        kind: 'added',
        description:
          'Kafka in KRaft mode with TLS, SCRAM users and ACLs; the bronze, silver and gold hook Jobs writing Iceberg tables on the lake volume; helm test running verify.',
      },
      {
        kind: 'added',
        description:
          'Schedules (pipeline and maintenance CronJobs), the metrics exporter with a ServiceMonitor and PrometheusRule, the continuous producer and the Spark engine.',
      },
    ],
  },
];

/** Fails naming the release and what is wrong: versions SemVer, newest first, the newest `current`. */
export function checkReleases(releases: readonly Release[], current: string): void {
  const newest = releases[0];
  if (!newest || newest.version !== current) {
    throw new Error(
      `generator/releases.ts: the newest release is ${newest?.version ?? 'missing'} but package.json's version (the chart's) is ${current}; add a release ${current} with its changes`,
    );
  }
  releases.forEach((release, i) => {
    const version = parseSemVer(release.version, `generator/releases.ts: release ${i + 1}'s version`);
    const older = releases[i + 1];
    if (older && compareSemVer(version, parseSemVer(older.version)) <= 0) {
      throw new Error(
        `generator/releases.ts: release ${release.version} must be newer than the one after it, ${older.version}`,
      );
    }
    if (release.changes.length === 0)
      throw new Error(`generator/releases.ts: release ${release.version} lists no change`);
    for (const change of release.changes) {
      if (!CHANGE_KINDS.includes(change.kind)) {
        throw new Error(
          `generator/releases.ts: release ${release.version}: kind "${change.kind}" is none of ${CHANGE_KINDS.join(', ')}`,
        );
      }
      if (change.description.trim() === '' || change.description.includes('\n')) {
        throw new Error(`generator/releases.ts: release ${release.version}: a description must be one non-empty line`);
      }
    }
  });
}

/** chart/CHANGELOG.md: every release, newest first, its changes grouped by kind. */
export function changelogMarkdown(releases: readonly Release[]): string {
  const sections = releases.map((release) => {
    const groups = CHANGE_KINDS.map((kind) => ({ kind, changes: release.changes.filter((c) => c.kind === kind) }))
      .filter((g) => g.changes.length > 0)
      .map(
        (g) =>
          `### ${g.kind[0]!.toUpperCase()}${g.kind.slice(1)}\n\n${g.changes.map((c) => `- ${c.description}`).join('\n')}\n`,
      );
    return `## ${release.version}\n\n${groups.join('\n')}`;
  });
  return `# Changelog\n\nGenerated by \`npm run generate\` from generator/releases.ts; do not edit.\n\n${sections.join('\n')}`;
}
