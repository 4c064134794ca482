// The store's S3 identity: an access key and a secret key generated on the first install and looked
// up and kept on every upgrade ("objectstore.keys"), with what each side reads of them: the jobs the
// keys and the catalog's OAuth2 client credentials (secretKeyRef), the server its identities file.
import { Secret } from 'kubernetes-models/v1';
import type { Binder } from '../../binder.ts';
import type { Emitter } from '../../emitter.ts';
import { fullname, labels } from '../chart-names.ts';
import { SECRET_KEYS } from '../names.ts';

const PLACEHOLDER = Buffer.from('generated at install').toString('base64');

const encoded = (v: Binder, expr: string) => v.expr(`${expr} | b64enc`, PLACEHOLDER, { quote: true });

export const storeSecretName = (v: Binder) => fullname(v);

export const storeSecret: Emitter = {
  file: 'templates/secret.yaml',
  when: (v) => v.cond('.Values.enabled'),
  preamble: () => `{{- $keys := include "objectstore.keys" . | fromYaml }}`,
  build: (v) =>
    new Secret({
      metadata: { name: storeSecretName(v), labels: labels(v, 'server') },
      type: 'Opaque',
      data: {
        [SECRET_KEYS.accessKeyId]: encoded(v, `index $keys "${SECRET_KEYS.accessKeyId}"`),
        [SECRET_KEYS.secretAccessKey]: encoded(v, `index $keys "${SECRET_KEYS.secretAccessKey}"`),
        [SECRET_KEYS.credential]: encoded(
          v,
          `printf "%s:%s" (index $keys "${SECRET_KEYS.accessKeyId}") (index $keys "${SECRET_KEYS.secretAccessKey}")`,
        ),
        [SECRET_KEYS.identities]: encoded(v, `include "objectstore.identities" $keys`),
      },
    }),
};
