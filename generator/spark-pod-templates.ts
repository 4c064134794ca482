// The pod templates spark-submit builds the driver and executor pods from (engine=spark): Spark
// itself sets image, command, resources, its volumes and environment; the templates add what the
// restricted Pod Security Standard asks and the chart's other pods have — non-root uid, the runtime's
// seccomp profile, no privilege escalation, no capabilities, a read-only root file system — and the
// writable directories a read-only root leaves the JVM and Python: /tmp and the work directory,
// where the driver's spark-submit puts the stage's --files and --py-files. With a REST catalog the
// stages' files are no upload through the lake volume: the templates mount them from the chart's
// Spark files ConfigMap, at the path the submitting pod has them.
import { Pod, type IPod } from 'kubernetes-models/v1';
import { containerSecurityContext, podSecurityContext } from './pod-security.ts';

/** uid/gid of the apache/spark image's user "spark". */
export const SPARK_RUN_AS = 185;
export const SPARK_WORK_DIR = '/opt/spark/work-dir';
/** Where the chart's Spark files (stages, modules, contract, submit wrapper) are mounted. */
export const SPARK_FILES_MOUNT = '/opt/lakehouse/spark';

export type SparkPodRole = 'driver' | 'executor';
export const SPARK_POD_ROLES: readonly SparkPodRole[] = ['driver', 'executor'];

/** File name of a role's template among the chart's Spark files. */
export const sparkPodTemplateFile = (role: SparkPodRole) => `${role}-pod-template.yaml`;

/** `sparkFiles`: the ConfigMap of the chart's Spark files, to mount in the pod (REST catalog). */
export const sparkPodTemplate = (role: SparkPodRole, sparkFiles?: { readonly configMap: string }): IPod =>
  new Pod({
    metadata: {},
    spec: {
      // The driver creates and watches its executors through the API; executors never call it.
      automountServiceAccountToken: role === 'driver',
      enableServiceLinks: false,
      securityContext: podSecurityContext(SPARK_RUN_AS),
      containers: [
        {
          name: `spark-kubernetes-${role}`,
          securityContext: containerSecurityContext(),
          volumeMounts: [
            { name: 'tmp', mountPath: '/tmp' },
            { name: 'work-dir', mountPath: SPARK_WORK_DIR },
            ...(sparkFiles ? [{ name: 'spark-files', mountPath: SPARK_FILES_MOUNT, readOnly: true }] : []),
          ],
        },
      ],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'work-dir', emptyDir: {} },
        ...(sparkFiles ? [{ name: 'spark-files', configMap: { name: sparkFiles.configMap } }] : []),
      ],
    },
  }).toJSON() as IPod;
