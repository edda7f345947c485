import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  IMAGE_OPTION_TABLE,
  LAUNCH_OPTION_TABLE,
  optionEnvKeys,
  REFUSED_FLAGS,
} from '../src/option-table.js';
import { CgroupLimitsSchema, ImageOptionsSchema, LaunchOptionsSchema } from '../src/options.js';

const row = (flag: string) => {
  const r = LAUNCH_OPTION_TABLE.find((x) => x.flag === flag);
  assert.ok(r, flag);
  return r;
};

test('optionEnvKeys: BERTH_<FLAG>, then upstream names under APPTAINER_ and SINGULARITY_', () => {
  assert.equal(optionEnvKeys(row('fakeroot')), [
    'BERTH_FAKEROOT',
    'APPTAINER_FAKEROOT',
    'SINGULARITY_FAKEROOT',
  ]);
  assert.equal(optionEnvKeys(row('no-home')), [
    'BERTH_NO_HOME',
    'APPTAINER_NO_HOME',
    'SINGULARITY_NO_HOME',
  ]);
  assert.equal(optionEnvKeys(row('bind')), [
    'BERTH_BIND',
    'APPTAINER_BIND',
    'APPTAINER_BINDPATH',
    'SINGULARITY_BIND',
    'SINGULARITY_BINDPATH',
  ]);
  assert.ok(optionEnvKeys(row('no-https')).includes('SINGULARITY_NOHTTPS'));
  assert.is(optionEnvKeys(row('no-https'))[0], 'BERTH_NO_HTTPS');
});

test('optionEnvKeys: upstream names that differ from the flag; berth-only flags have BERTH_ alone', () => {
  assert.ok(optionEnvKeys(row('overlay')).includes('SINGULARITY_OVERLAYIMAGE'));
  assert.ok(optionEnvKeys(row('scratch')).includes('APPTAINER_SCRATCHDIR'));
  assert.ok(optionEnvKeys(row('uts')).includes('SINGULARITY_UNSHARE_UTS'));
  assert.ok(optionEnvKeys(row('cwd')).includes('SINGULARITY_TARGET_CWD'));
  assert.ok(optionEnvKeys(row('no-init')).includes('SINGULARITY_NOSHIMINIT'));
  assert.ok(optionEnvKeys(row('passphrase')).includes('SINGULARITY_ENCRYPTION_PASSPHRASE'));
  for (const f of ['runtime', 'device', 'cdi-dirs', 'env', 'shell'])
    assert.equal(optionEnvKeys(row(f)), [`BERTH_${f.toUpperCase().replace(/-/g, '_')}`], f);
  assert.ok(row('bind').envAppend && row('mount').envAppend && row('mount').envWhole);
});

test('every flag, alias and key is unique; every key has its schema', () => {
  const spellings = new Set<string>();
  for (const r of LAUNCH_OPTION_TABLE) {
    for (const s of [`--${r.flag}`, ...(r.aliases ?? []).map((a) => `--${a}`)]) {
      assert.not.ok(spellings.has(s), s);
      spellings.add(s);
    }
    for (const s of r.short ?? []) {
      assert.is(s.length, 1, s);
      assert.not.ok(spellings.has(`-${s}`), s);
      spellings.add(`-${s}`);
    }
    const [entries, key] = r.key.startsWith('limits.')
      ? [CgroupLimitsSchema.entries, r.key.slice('limits.'.length)]
      : [LaunchOptionsSchema.entries, r.key];
    assert.is(r.schema, (entries as Record<string, unknown>)[key], r.flag);
  }
  const keys = LAUNCH_OPTION_TABLE.map((r) => r.key).filter((k) => k !== 'keyInfo');
  assert.is(new Set(keys).size, keys.length, 'one flag per key (but --pem-path/--passphrase)');
});

test('every launch option but the library-only ones has a flag', () => {
  const flagged = new Set(LAUNCH_OPTION_TABLE.map((r) => r.key.replace(/^limits\..*/, 'limits')));
  const libraryOnly = Object.keys(LaunchOptionsSchema.entries).filter((k) => !flagged.has(k));
  for (const k of libraryOnly) {
    assert.ok(
      [
        'image',
        'action',
        'args',
        'cacheDir',
        'hostEnv',
        'terminal',
        'signal',
        'stdio',
        'onWarning',
        'onInfo',
        'onProgress',
      ].includes(k),
      `${k} has no flag in the option table`,
    );
  }
  const limitFlags = LAUNCH_OPTION_TABLE.filter((r) => r.key.startsWith('limits.')).length;
  assert.is(limitFlags, Object.keys(CgroupLimitsSchema.entries).length);
});

test('the image options are those of ImageOptionsSchema', () => {
  assert.equal(
    IMAGE_OPTION_TABLE.map((r) => r.key).sort(),
    Object.keys(ImageOptionsSchema.entries)
      .filter((k) => k !== 'image' && k !== 'cacheDir')
      .sort(),
  );
});

test('the refused flags: hidden (but --compat), in the order --help lists them', () => {
  assert.equal(REFUSED_FLAGS, [
    '--contain',
    '--containall',
    '--compat',
    '--boot',
    '--no-init',
    '--fusemount',
    '--nvccli',
    '--network-args',
    '--netns-path',
    '--security',
    '--shell',
    '--pem-path',
    '--passphrase',
    '--sif-fuse',
  ]);
  for (const r of LAUNCH_OPTION_TABLE.filter((x) => x.refused)) {
    assert.is(r.hidden === true, r.flag !== 'compat', r.flag);
  }
});

test.run();
