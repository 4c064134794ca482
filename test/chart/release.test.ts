// The chart as a published artifact: its version, changelog and Artifact Hub changes come from
// generator/releases.ts; `npm run chart:publish` packages it with provenance that Helm 3 and Helm 4
// verify and that fails on a changed byte or another key; ci/chart/version-check.ts refuses a chart/
// change without a higher version. (Pushing to an OCI registry and installing from it with
// --verify is the cluster test's default scenario.)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { checkReleases, RELEASES, type Release } from '../../generator/releases.ts';
import { compareSemVer, parseSemVer } from '../../generator/semver.ts';
import { CHART_DIR, helms, REPO_ROOT, run, withTools } from './tools.ts';

const release = suite('chart release');
const roots: string[] = [];
const tempDir = (name: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lakehouse-${name}-`));
  roots.push(dir);
  return dir;
};
release.after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

const packageVersion = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const chartYaml = () => parse(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8'));

release("Chart.yaml's version, changes and CHANGELOG.md are package.json's version and generator/releases.ts", () => {
  const chart = chartYaml();
  assert.is(chart.version, packageVersion);
  assert.is(chart.dependencies[0].version, packageVersion);
  assert.equal(parse(chart.annotations['artifacthub.io/changes']), RELEASES[0]!.changes);
  const changelog = readFileSync(path.join(CHART_DIR, 'CHANGELOG.md'), 'utf8');
  for (const r of RELEASES) {
    assert.ok(changelog.includes(`## ${r.version}\n`), r.version);
    for (const c of r.changes) assert.ok(changelog.includes(`- ${c.description}\n`), c.description);
  }
});

release('SemVer precedence as semver.org orders it; a non-SemVer version is refused naming it', () => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11'];
  const more = ['1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0'];
  const all = [...ordered, ...more].map((v) => parseSemVer(v));
  for (let i = 1; i < all.length; i++)
    assert.ok(compareSemVer(all[i - 1]!, all[i]!) < 0, `${all[i - 1]!.text} < ${all[i]!.text}`);
  assert.is(compareSemVer(parseSemVer('1.2.3+build.5'), parseSemVer('1.2.3')), 0);
  for (const bad of ['1.2', '01.2.3', '1.2.3-', 'v1.2.3', '1.2.3-01']) {
    assert.throws(
      () => parseSemVer(bad, 'version'),
      new RegExp(`version "${bad.replace('.', '\\.')}" is not a SemVer`),
    );
  }
});

release(
  'the release history is refused when it does not lead with the chart version, goes backwards or has a bad kind',
  () => {
    const change = { kind: 'added', description: 'x' } as const;
    const history = (...versions: string[]): Release[] => versions.map((version) => ({ version, changes: [change] }));
    assert.not.throws(() => checkReleases(history('0.3.0', '0.2.0'), '0.3.0'));
    assert.throws(
      () => checkReleases(history('0.2.0'), '0.3.0'),
      /newest release is 0\.2\.0 but package\.json's version \(the chart's\) is 0\.3\.0/,
    );
    assert.throws(
      () => checkReleases(history('0.3.0', '0.3.0'), '0.3.0'),
      /release 0\.3\.0 must be newer than the one after it, 0\.3\.0/,
    );
    assert.throws(
      () =>
        checkReleases([{ version: '0.3.0', changes: [{ kind: 'improved' as 'added', description: 'x' }] }], '0.3.0'),
      /kind "improved" is none of added, changed, deprecated, removed, fixed, security/,
    );
    assert.throws(() => checkReleases([{ version: '0.3.0', changes: [] }], '0.3.0'), /release 0\.3\.0 lists no change/);
  },
);

release(
  'the version check fails when chart/ changed without a higher version, naming the files and both versions',
  () => {
    const repo = tempDir('version-check');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
        cwd: repo,
        encoding: 'utf8',
      });
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      writeFileSync(path.join(repo, file), text);
    };
    const setVersion = (v: string) => write('chart/Chart.yaml', `apiVersion: v2\nname: lakehouse\nversion: ${v}\n`);
    const commit = (message: string) => {
      git('add', '-A');
      git('commit', '-q', '-m', message);
    };
    const check = (...base: string[]) =>
      spawnSync(
        path.join(REPO_ROOT, 'node_modules/.bin/tsx'),
        [path.join(REPO_ROOT, 'ci/chart/version-check.ts'), ...base],
        {
          cwd: repo,
          encoding: 'utf8',
        },
      );
    git('init', '-q', '-b', 'main');
    setVersion('1.4.0');
    write('chart/values.yaml', 'a: 1\n');
    write('README.md', 'x\n');
    commit('first');
    const first = git('rev-parse', 'HEAD').trim();

    write('README.md', 'y\n');
    commit('outside chart/');
    assert.is(check().status, 0, 'a change outside chart/ needs no bump');

    write('chart/values.yaml', 'a: 2\n');
    commit('values changed');
    let result = check();
    assert.is(result.status, 1, result.stdout);
    assert.match(
      result.stderr,
      /chart\/ changed since \w+ \(chart\/values\.yaml\) but its version is 1\.4\.0, not higher than 1\.4\.0 there/,
    );
    // Against the merge base, the branch's changes count together.
    result = check(first);
    assert.is(result.status, 1);
    setVersion('1.3.9');
    commit('a lower version');
    result = check(first);
    assert.is(result.status, 1);
    assert.match(
      result.stderr,
      /\(chart\/Chart\.yaml, chart\/values\.yaml\) but its version is 1\.3\.9, not higher than 1\.4\.0/,
    );
    setVersion('1.4.1-rc.1');
    commit('a prerelease of the next patch');
    result = check(first);
    assert.is(result.status, 0, result.stderr);
    assert.match(result.stdout, /1\.4\.0 at \w+ -> 1\.4\.1-rc\.1, 2 files changed/);
    // An uncommitted change of chart/ counts too.
    write('chart/values.yaml', 'a: 3\n');
    assert.is(check('HEAD').status, 1);
  },
);

withTools(release, () => {
  const [helm4, helm3] = helms();
  release(
    'the chart is packaged with provenance that both Helms verify, and refused with a changed byte or another key',
    () => {
      const gnupg = tempDir('gnupg');
      const keys = tempDir('keys');
      const gpg = (...args: string[]) =>
        execFileSync('gpg', ['--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
          env: { ...process.env, GNUPGHOME: gnupg },
        });
      try {
        for (const name of ['signer', 'stranger'])
          gpg('--quick-gen-key', `lakehouse ${name} <${name}@example.com>`, 'rsa2048', 'sign', '1d');
        writeFileSync(path.join(keys, 'secring.gpg'), gpg('--export-secret-keys', 'lakehouse signer'));
        writeFileSync(path.join(keys, 'pubring.gpg'), gpg('--export', 'lakehouse signer'));
        writeFileSync(path.join(keys, 'stranger.gpg'), gpg('--export', 'lakehouse stranger'));
      } finally {
        spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg } });
      }
      const out = tempDir('dist');
      const publish = run(
        'bash',
        ['ci/chart/publish.sh', '--out', out, '--key', 'lakehouse signer', '--keyring', path.join(keys, 'secring.gpg')],
        {
          env: { HELM: helm4!.bin },
        },
      );
      assert.is(publish.status, 0, publish.stderr);
      const tgz = path.join(out, `lakehouse-${packageVersion}.tgz`);
      assert.is(publish.stdout.trim(), tgz);
      for (const helm of [helm4!, helm3!]) {
        const verified = run(helm.bin, ['verify', tgz, '--keyring', path.join(keys, 'pubring.gpg')]);
        assert.is(verified.status, 0, `${helm.name}: ${verified.stderr}`);
        assert.match(verified.stdout, /Signed by: lakehouse signer <signer@example\.com>/);
        assert.is.not(
          run(helm.bin, ['verify', tgz, '--keyring', path.join(keys, 'stranger.gpg')]).status,
          0,
          `${helm.name}: another key`,
        );
        const shown = parse(run(helm.bin, ['show', 'chart', tgz]).stdout);
        assert.is(shown.version, packageVersion, helm.name);
      }
      const listing = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).split('\n');
      for (const file of [
        'lakehouse/CHANGELOG.md',
        'lakehouse/Chart.lock',
        'lakehouse/files/lakehouse.mjs.br',
        'lakehouse/charts/objectstore/Chart.yaml',
      ]) {
        assert.ok(listing.includes(file), `${file} is in the package`);
      }
      assert.not.ok(listing.includes('lakehouse/files/lakehouse.mjs'), 'the plain bundle is not (it ships compressed)');
      const tampered = path.join(out, 'tampered', path.basename(tgz));
      mkdirSync(path.dirname(tampered));
      copyFileSync(`${tgz}.prov`, `${tampered}.prov`);
      const bytes = readFileSync(tgz);
      const middle = bytes.length >> 1;
      bytes[middle] = bytes[middle]! ^ 1;
      writeFileSync(tampered, bytes);
      for (const helm of [helm4!, helm3!]) {
        const refused = run(helm.bin, ['verify', tampered, '--keyring', path.join(keys, 'pubring.gpg')]);
        assert.is.not(refused.status, 0, helm.name);
        assert.match(refused.stderr, /sha256 sum does not match/, helm.name);
      }
      const unpaired = run('bash', ['ci/chart/publish.sh', '--out', out, '--key', 'lakehouse signer'], {
        env: { HELM: helm4!.bin },
      });
      assert.is(unpaired.status, 2);
      assert.match(unpaired.stderr, /--key and --keyring go together/);
    },
  );
});

release.run();
