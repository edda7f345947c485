import { chmod, chown, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as v from 'valibot';
import { LaunchOptionsSchema } from '../src/options.js';
import { planHost, planOptions } from '../src/plan.js';
import {
  DEFAULT_SITE_CONFIG,
  loadSiteConfig,
  parseSiteConfig,
  readSiteConfig,
  SITE_CONFIG_PATH,
  type SiteConfig,
} from '../src/site-config.js';

const FILE = '/etc/berth/berth.conf';
const isRoot = process.geteuid?.() === 0;

/** The error a function throws (sync or async). */
async function thrown(f: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await f();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected an error');
}

test('parse: comments, blank lines, key = value with free spacing and case', () => {
  const { config, warnings } = parseSiteConfig(
    [
      '# a comment',
      '',
      'bind path = /etc/localtime',
      '  BIND   PATH=/data:/mnt/data:ro  ',
      'mount home = no',
      'Mount Tmp = NO',
      'mount proc = yes',
      'mount dev = minimal',
      'config passwd = no',
      'config resolv_conf = no',
      'user bind control = no',
    ].join('\n'),
  );
  assert.equal(warnings, []);
  assert.equal(config.bindPaths, ['/etc/localtime', '/data:/mnt/data:ro']);
  assert.is(config.mountHome, false);
  assert.is(config.mountTmp, false);
  assert.is(config.mountProc, true);
  assert.is(config.mountSys, true);
  assert.is(config.mountDev, 'minimal');
  assert.is(config.configPasswd, false);
  assert.is(config.configGroup, true);
  assert.is(config.configResolvConf, false);
  assert.is(config.userBindControl, false);
  assert.is(config.file, FILE);
  assert.is(config.lines?.mountHome, 5);
});

test('parse: an empty file is the defaults', () => {
  const { config } = parseSiteConfig('', FILE);
  const { file, lines, ...rest } = config;
  const { file: _f, lines: _l, ...defaults } = DEFAULT_SITE_CONFIG;
  assert.equal(rest, defaults);
  assert.is(defaults.userBindControl, true);
});

test('parse: malformed lines name the file and the line number', async () => {
  for (const [text, line, what] of [
    ['mount home = no\njust words', 2, /expected "directive = value", got "just words"/],
    ['\n\nmount home = perhaps', 3, /"mount home" must be yes or no, got "perhaps"/],
    ['mount dev = never', 1, /"mount dev" must be yes, no or minimal, got "never"/],
    ['bind path = relative/dir', 1, /"bind path" source must be an absolute path/],
    ['#\nbind path = /a:/b:/c:/d', 2, /bad "bind path"/],
    ['bind path = /a:/b:bogus', 1, /bad "bind path"/],
    ['= yes', 1, /expected "directive = value"/],
  ] as const) {
    const e = await thrown(() => parseSiteConfig(text, FILE));
    assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG', text);
    assert.ok(e.message.startsWith(`${FILE} line ${line}: `), e.message);
    assert.match(e.message, what);
  }
});

test('parse: an unknown directive warns once; a repeated one warns and the last counts', () => {
  const { config, warnings } = parseSiteConfig(
    'allow setuid = yes\nmount home = yes\nALLOW  setuid = no\nmount home = no\n',
    FILE,
  );
  assert.is(config.mountHome, false);
  assert.equal(warnings, [
    `${FILE} line 1: unknown directive "allow setuid", ignoring it`,
    `${FILE} line 4: "mount home" is also set on line 2; line 4 counts`,
  ]);
});

/** A root-owned private directory holding `name` with `text`. */
async function siteDir(text: string, name = 'berth.conf') {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-site-'));
  const file = path.join(dir, name);
  await writeFile(file, text, { mode: 0o644 });
  return { dir, file, done: () => rm(dir, { recursive: true, force: true }) };
}

test('read: a missing file is the defaults', async () => {
  const { config, warnings } = await readSiteConfig('/nonexistent/berth.conf');
  assert.equal(config, DEFAULT_SITE_CONFIG);
  assert.equal(warnings, []);
});

test('read: a file owned by root and writable only by it is read', async () => {
  if (!isRoot) return;
  const s = await siteDir('mount sys = no\n');
  try {
    assert.is((await readSiteConfig(s.file)).config.mountSys, false);
  } finally {
    await s.done();
  }
});

test('read: a file or directory not owned by root, or writable by group or others, is refused', async () => {
  if (!isRoot) return;
  const s = await siteDir('mount sys = no\n');
  try {
    const refused = async (pattern: RegExp) => {
      const e = await thrown(() => readSiteConfig(s.file));
      assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG');
      assert.match(e.message, pattern);
    };
    await chmod(s.file, 0o666);
    await refused(
      new RegExp(`site configuration ${s.file} is writable by its group \\(mode 666\\)`),
    );
    await chmod(s.file, 0o646);
    await refused(/is writable by others \(mode 646\)/);
    await chmod(s.file, 0o644);
    await chown(s.file, 65534, 0);
    await refused(/is owned by uid 65534, not root/);
    await chown(s.file, 0, 0);
    await chmod(s.dir, 0o777);
    await refused(new RegExp(`the directory ${s.dir} of ${s.file} is writable by its group`));
    await chmod(s.dir, 0o755);
    await chown(s.dir, 65534, 0);
    await refused(/the directory .* is owned by uid 65534/);
    await chown(s.dir, 0, 0);
    // a symbolic link is judged by the file it leads to
    const other = await siteDir('mount sys = no\n');
    try {
      await chmod(other.file, 0o666);
      const link = path.join(s.dir, 'link.conf');
      await symlink(other.file, link);
      const e = await thrown(() => readSiteConfig(link));
      assert.match(e.message, /is writable by its group/);
    } finally {
      await other.done();
    }
  } finally {
    await s.done();
  }
});

test('load: only root may name another file; a parsed configuration is taken as it is', async () => {
  const e = await thrown(() => loadSiteConfig('/tmp/mine.conf', 1000));
  assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG');
  assert.match(
    e.message,
    /only root may use another site configuration than \/etc\/berth\/berth.conf/,
  );
  // the default path by name is allowed to anyone
  await loadSiteConfig(SITE_CONFIG_PATH, 1000);
  const parsed = await loadSiteConfig({ mountTmp: false }, 1000);
  assert.is(parsed.config.mountTmp, false);
});

test('load: a bind path whose source is missing is skipped with a warning', async () => {
  const { config, warnings } = await loadSiteConfig(
    { bindPaths: ['/nonexistent/src:/x', '/etc:/host-etc:ro'], file: FILE },
    0,
  );
  assert.equal(config.bindPaths, ['/etc:/host-etc:ro']);
  assert.equal(warnings, [
    `site bind path "/nonexistent/src:/x" (${FILE}): source /nonexistent/src does not exist, skipping it`,
  ]);
});

// The plan applies the site configuration.

const opts = (o: Record<string, unknown> = {}) =>
  v.parse(LaunchOptionsSchema, { image: 'oci:/x', ...o });
const site = (text: string): SiteConfig => parseSiteConfig(text, FILE).config;

test('plan: mount home/tmp/proc/sys = no and config resolv_conf = no leave those mounts out', () => {
  const plan = planOptions(
    opts(),
    '/',
    site(
      'mount home = no\nmount tmp = no\nmount proc = no\nmount sys = no\nconfig resolv_conf = no',
    ),
  );
  for (const n of ['home', 'tmp', 'proc', 'sys', '/etc/resolv.conf'])
    assert.ok(plan.skip.has(n), n);
  const none = planOptions(opts(), '/');
  assert.is(none.skip.size, 0);
  assert.is(none.etcPasswd && none.etcGroup, true);
  const etc = planOptions(opts(), '/', site('config passwd = no\nconfig group = no'));
  assert.is(etc.etcPasswd || etc.etcGroup, false);
});

test('plan: bind paths come first, --no-mount bind-paths or their destination leaves them out', () => {
  const s = site('bind path = /etc/hosts\nbind path = /srv:/data:ro');
  const plan = planOptions(opts({ binds: ['/a:/b'] }), '/', s);
  assert.equal(
    plan.userBinds.map((b) => `${b.source}:${b.destination}:${b.readonly}`),
    ['/etc/hosts:/etc/hosts:false', '/srv:/data:true', '/a:/b:false'],
  );
  assert.equal(plan.notes, []);
  const noData = planOptions(opts({ noMount: ['/data'] }), '/', s);
  assert.equal(
    noData.userBinds.map((b) => b.destination),
    ['/etc/hosts'],
  );
  assert.equal(noData.notes, [], 'a site bind destination is a --no-mount berth honours');
  assert.equal(planOptions(opts({ noMount: ['bind-paths'] }), '/', s).userBinds, []);
});

test('plan: mount dev = no and mount devpts = no are refused, naming the file and line', async () => {
  for (const [text, what] of [
    [
      '\nmount dev = no',
      /a container needs \/dev mounted, but "mount dev = no" in \/etc\/berth\/berth.conf line 2/,
    ],
    [
      'mount devpts = no',
      /a container needs \/dev\/pts mounted, but "mount devpts = no" in .* line 1/,
    ],
  ] as const) {
    const e = await thrown(() => planOptions(opts(), '/', site(text)));
    assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG');
    assert.match(e.message, what);
  }
  assert.is(planOptions(opts(), '/', site('mount dev = minimal')).minimalDev, true);
  assert.is(planOptions(opts(), '/', site('mount dev = yes')).minimalDev, false);
});

test('plan: user bind control = no refuses --bind, --mount and --home SRC:DST, not --home DST', async () => {
  const s = site('user bind control = no\nbind path = /etc/hosts');
  for (const [o, what] of [
    [{ binds: ['/a:/b'] }, '--bind /a:/b'],
    [{ mounts: ['type=bind,src=/a,dst=/b'] }, '--mount type=bind,src=/a,dst=/b'],
    [{ home: '/h:/home/u' }, '--home /h:/home/u'],
  ] as const) {
    const e = await thrown(() => planOptions(opts(o), '/', s));
    assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG');
    assert.is(
      e.message,
      `user binds are disabled by "user bind control = no" in ${FILE} line 1: ${what} is refused`,
    );
  }
  const plan = planOptions(opts({ home: '/home/u' }), '/', s);
  assert.equal(
    plan.userBinds.map((b) => b.source),
    ['/etc/hosts'],
    "the site's own binds stay",
  );
});

test('planHost: mount proc = no is refused with runc, as --no-mount proc', async () => {
  const host = (name: string) => ({
    uid: 0,
    layout: 'unified',
    limited: false,
    runtime: { name, path: `/usr/bin/${name}` } as never,
  });
  const s = site('mount proc = no');
  const e = await thrown(() => planHost(opts(), host('runc'), s));
  assert.is(e.code, 'ERR_LAUNCH_SITE_CONFIG');
  assert.match(e.message, /runc .* needs \/proc in the container, but "mount proc = no"/);
  planHost(opts(), host('crun'), s);
});

test.run();
