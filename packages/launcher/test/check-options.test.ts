import { parseOptions } from '@berth-oci/errors';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkOptions,
  checkRuntimeOptions,
  isCpusetList,
  isValidHostname,
} from '../src/check-options.js';
import { LaunchOptionsSchema } from '../src/options.js';
import { rejects } from './helpers.js';

const resolved = (o: Record<string, unknown>) =>
  parseOptions(LaunchOptionsSchema, { image: 'oci:/x', ...o }, 'test');

test('isValidHostname: RFC 1123 labels, at most 64 characters', () => {
  for (const ok of [
    'a',
    'my-host',
    'node01.cluster.example',
    'x'.repeat(63),
    `${'a'.repeat(31)}.${'b'.repeat(32)}`,
  ])
    assert.ok(isValidHostname(ok), ok);
  for (const bad of [
    'a b',
    '-rf',
    'a-',
    'a..b',
    '.a',
    'a_b',
    `${'x'.repeat(64)}y`,
    'a'.repeat(65),
    'é',
  ])
    assert.not.ok(isValidHostname(bad), bad);
});

test('checkOptions refuses a bad --hostname, naming it', async () => {
  await rejects(
    () => checkOptions(resolved({ hostname: 'a b' })),
    'ERR_LAUNCH_OPTIONS',
    /--hostname "a b" is not a valid host name/,
  );
  await rejects(() => checkOptions(resolved({ hostname: '-rf' })), 'ERR_LAUNCH_OPTIONS', /"-rf"/);
  await rejects(() => checkOptions(resolved({ hostname: 'a'.repeat(300) })), 'ERR_LAUNCH_OPTIONS');
  checkOptions(resolved({ hostname: 'node-1.example' }));
});

test('checkOptions refuses unknown capabilities and --no-mount names', async () => {
  await rejects(
    () => checkOptions(resolved({ addCaps: ['CAP_BOGUS'] })),
    'ERR_LAUNCH_OPTIONS',
    /unknown capability "CAP_BOGUS" in --add-caps/,
  );
  await rejects(
    () => checkOptions(resolved({ dropCaps: ['net_raw,foo'] })),
    'ERR_LAUNCH_OPTIONS',
    /"foo" in --drop-caps/,
  );
  await rejects(
    () => checkOptions(resolved({ noMount: ['tmp,bogus'] })),
    'ERR_LAUNCH_OPTIONS',
    /--no-mount "bogus" is not a mount berth knows/,
  );
  checkOptions(
    resolved({
      addCaps: ['sys_ptrace,CAP_NET_ADMIN'],
      dropCaps: ['ALL'],
      noMount: ['proc,tmp,/etc/resolv.conf'],
    }),
  );
});

test('isCpusetList: numbers and ascending ranges, comma-separated', () => {
  for (const ok of ['0', '0-2,4', '1,3,5-7', '0-0']) assert.ok(isCpusetList(ok), ok);
  for (const bad of ['a-b', '3-1', '1,', ',1', '1-', '-1', '1 2', '0x1', '1-2-3'])
    assert.not.ok(isCpusetList(bad), bad);
});

test('checkOptions refuses a --cpuset-cpus or --cpuset-mems that is not a cpuset list', async () => {
  await rejects(
    () => checkOptions(resolved({ limits: { cpusetCpus: 'a-b' } })),
    'ERR_LAUNCH_OPTIONS',
    /--cpuset-cpus "a-b" is not a list of numbers and ranges/,
  );
  await rejects(
    () => checkOptions(resolved({ limits: { cpusetMems: '1-0' } })),
    'ERR_LAUNCH_OPTIONS',
    /--cpuset-mems "1-0"/,
  );
  checkOptions(resolved({ limits: { cpusetCpus: '0-1', cpusetMems: '0' } }));
});

test('checkRuntimeOptions: --no-mount proc is refused on runc only', async () => {
  const o = resolved({ noMount: ['tmp,proc'] });
  const e = await rejects(
    () => checkRuntimeOptions(o, { name: 'runc', path: '/usr/sbin/runc' }),
    'ERR_LAUNCH_UNSUPPORTED',
    /--no-mount proc is not supported with runc/,
  );
  assert.match(e.hint ?? '', /crun/);
  checkRuntimeOptions(o, { name: 'crun', path: '/usr/bin/crun' });
  checkRuntimeOptions(resolved({ noMount: ['tmp'] }), { name: 'runc', path: '/usr/sbin/runc' });
});

test.run();
