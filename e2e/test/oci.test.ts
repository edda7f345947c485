/**
 * berth oci: the bundle commands (mount, create, start, state, exec, pause/resume, kill,
 * delete, attach, run, list, umount) as root and as an unprivileged user, under crun and runc,
 * with conmon; in a pseudo-terminal where a terminal matters.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ajvDraft04 from 'ajv-draft-04';
import { execa, type ResultPromise } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BERTH,
  berth,
  ensureUser,
  hostMountsMatching,
  pidsMatching,
  REPO,
  RUNTIMES,
  type RunOptions,
  type RuntimeName,
  requireRoot,
  startBerth,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildTestImage, type TestImage } from '../src/images.js';

requireRoot();

type Profile = 'root' | 'user';
const PROFILES: Profile[] = ['root', 'user'];

// The OCI state schema, in a real validator.
const SCHEMA_DIR = path.join(REPO, 'test-fixtures', 'oci-schemas', 'runtime-spec');
const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
for (const name of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json')))
  ajv.addSchema(JSON.parse(readFileSync(path.join(SCHEMA_DIR, name), 'utf8')), name);
const validateState = ajv.getSchema('state-schema.json');
function assertOciState(doc: unknown): void {
  // `paused` is a state runc and crun define beyond the schema's four; all else must conform
  const d = doc as { status?: string };
  const ok = validateState?.(d.status === 'paused' ? { ...d, status: 'running' } : doc);
  assert.ok(
    ok,
    `not a valid OCI state: ${ajv.errorsText(validateState?.errors)}\n${JSON.stringify(doc)}`,
  );
}

let user: User;
let work: string;
let image: TestImage;

const opts = (
  profile: Profile,
  runtime: RuntimeName,
  extra: Partial<RunOptions> = {},
): RunOptions => ({
  profile,
  runtime,
  user,
  cacheDir: path.join(work, `cache-${profile}`),
  ...extra,
});
const oci = (
  args: string[],
  profile: Profile,
  runtime: RuntimeName,
  extra: Partial<RunOptions> = {},
) => berth(['--debug', 'oci', ...args], opts(profile, runtime, extra));

/** The state root of a profile (no XDG_RUNTIME_DIR under setpriv: $TMPDIR/berth-<uid>). */
const ociDir = (profile: Profile) =>
  profile === 'root' ? '/run/berth/oci' : path.join('/tmp', `berth-${user.uid}`, 'oci');

test.before(async () => {
  user = ensureUser();
  work = await workDir('berth-oci-e2e-');
  image = await buildTestImage(path.join(work, 'layout'), 'test');
  for (const p of PROFILES) {
    await mkdir(path.join(work, `cache-${p}`), { mode: 0o700 });
    await mkdir(path.join(work, `bundles-${p}`), { mode: 0o755 });
  }
  await chown(path.join(work, 'cache-user'), user.uid, user.gid);
  await chown(path.join(work, 'bundles-user'), user.uid, user.gid);
  console.log(`oci e2e: image ${image.ref}; unprivileged user ${user.name} (uid ${user.uid})`);
});

test.after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let counter = 0;
/** A fresh container id and bundle path for a test. */
function names(profile: Profile, runtime: RuntimeName, what: string) {
  counter++;
  const id = `e2e-${what}-${runtime}-${profile}-${counter}`;
  return { id, bundle: path.join(work, `bundles-${profile}`, `${what}-${runtime}-${counter}`) };
}

/** `oci mount`, then sets the bundle's command (and terminal). */
async function mountBundle(
  profile: Profile,
  runtime: RuntimeName,
  bundle: string,
  args: string[],
  terminal = true,
): Promise<void> {
  const r = await oci(['mount', image.ref, bundle], profile, runtime);
  assert.is(r.code, 0, r.stderr);
  const file = path.join(bundle, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8'));
  config.process.args = args;
  config.process.terminal = terminal;
  await writeFile(file, JSON.stringify(config, null, 2));
}

async function stateOf(profile: Profile, runtime: RuntimeName, id: string) {
  const r = await oci(['state', id], profile, runtime);
  assert.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assertOciState(doc);
  return doc as { status: string; pid: number; bundle: string; id: string };
}

async function waitStatus(profile: Profile, runtime: RuntimeName, id: string, status: string) {
  return waitFor(
    async () => (await stateOf(profile, runtime, id)).status === status,
    15_000,
    `container ${id} to be ${status}`,
  );
}

/** What a container must not leave behind once deleted (and its bundle unmounted). */
async function assertNothingLeft(profile: Profile, id: string, bundle: string, holderPid?: number) {
  const dir = ociDir(profile);
  const containers = await readdir(path.join(dir, 'containers')).catch(() => [] as string[]);
  assert.not.ok(containers.includes(id), `state directory of ${id} left in ${dir}`);
  assert.equal(pidsMatching(`conmon .*--cid ${id} `), [], `conmon of ${id} still runs`);
  await assert.not.ok(
    await stat(bundle).then(
      () => true,
      () => false,
    ),
    `bundle ${bundle} left`,
  );
  assert.equal(await hostMountsMatching(bundle), [], 'a mount of the bundle is left');
  if (holderPid !== undefined) {
    assert.not.ok(await running(holderPid), `the namespace holder ${holderPid} still runs`);
    const rec = await readFile(path.join(dir, 'holder.json'), 'utf8').catch(() => undefined);
    assert.is(rec, undefined, 'the holder record is left');
  }
}

/** True while `pid` runs: a zombie (PID 1 here reaps orphans late) has ended. */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return (
    stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  );
}

async function holderPid(profile: Profile): Promise<number | undefined> {
  if (profile === 'root') return undefined;
  const rec = JSON.parse(await readFile(path.join(ociDir(profile), 'holder.json'), 'utf8'));
  return rec.pid as number;
}

const shellQuote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** berth in a pseudo-terminal (util-linux `script`) that the test types into as it goes. */
function startPty(
  args: string[],
  profile: Profile,
  runtime: RuntimeName,
  opts: { thenShowTerminal?: boolean } = {},
) {
  let cmd = [process.execPath, BERTH, ...args].map(shellQuote).join(' ');
  // berth's status stays the session's; `stty -a` then shows the terminal berth left behind
  if (opts.thenShowTerminal) cmd = `${cmd}; s=$?; echo; echo TERMINAL:; stty -a; exit $s`;
  const scriptArgs = ['--quiet', '--return', '--command', cmd, '/dev/null'];
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    BERTH_RUNTIME: runtime,
    BERTH_CACHEDIR: path.join(work, `cache-${profile}`),
    TERM: 'xterm',
    ...(profile === 'root'
      ? { HOME: '/root', USER: 'root' }
      : { HOME: user.home, USER: user.name, LOGNAME: user.name }),
  };
  const common = { reject: false, stdin: 'pipe' as const, env, extendEnv: false, timeout: 60_000 };
  const child: ResultPromise =
    profile === 'root'
      ? execa('script', scriptArgs, common)
      : execa(
          'setpriv',
          [
            `--reuid=${user.uid}`,
            `--regid=${user.gid}`,
            '--init-groups',
            '--',
            'script',
            ...scriptArgs,
          ],
          common,
        );
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  let last = 0;
  return {
    child,
    output: () => out,
    type: (s: string) => child.stdin?.write(s),
    /** Types `s` unless something was typed in the last 500 ms (for retry loops). */
    typeSlowly: (s: string) => {
      if (Date.now() - last < 500) return;
      last = Date.now();
      child.stdin?.write(s);
    },
    waitOutput: (re: RegExp, what: string) =>
      waitFor(() => re.test(out), 20_000, what).catch((e: Error) => {
        throw new Error(`${e.message}; got ${JSON.stringify(out)}`);
      }),
    done: async () => {
      const r = await child;
      return { code: r.exitCode, out };
    },
  };
}

/**
 * The container's terminal wrote each line with `\r\n`; relayed through a fully raw host
 * terminal it arrives so, not as `\r\r\n` (output post-processing left on) — issue 9 item 1.
 */
function assertRawRelay(out: string, marker: string) {
  assert.ok(out.includes(`${marker}\r\n`), `${marker} then CR LF: ${JSON.stringify(out)}`);
  assert.not.ok(out.includes('\r\r\n'), `no doubled carriage return: ${JSON.stringify(out)}`);
}

/** The pseudo-terminal berth runs in (found through a process whose command line names `id`). */
function ptyOf(needle: string): string {
  for (const pid of pidsMatching(needle)) {
    try {
      const tty = execFileSync('readlink', [`/proc/${pid}/fd/0`], { encoding: 'utf8' }).trim();
      if (tty.startsWith('/dev/pts/')) return tty;
    } catch {
      // gone
    }
  }
  throw new Error(`no pseudo-terminal found for ${needle}`);
}

function show(profile: Profile, runtime: RuntimeName, what: string, detail = ''): void {
  console.log(`  ok [${runtime}/${profile}] ${what}${detail ? ` -> ${detail}` : ''}`);
}

for (const runtime of RUNTIMES) {
  for (const profile of PROFILES) {
    const tag = `[${runtime}/${profile}]`;

    test(`${tag} lifecycle: mount, create, start, exec, pause, kill, delete, umount`, async () => {
      const { id, bundle } = names(profile, runtime, 'life');
      await mountBundle(profile, runtime, bundle, ['/bin/sh']);
      const st = await stat(path.join(bundle, 'rootfs', 'bin', 'busybox'));
      assert.is(st.uid, profile === 'root' ? 0 : user.uid, 'image root files belong to the caller');

      let r = await oci(['create', '-b', bundle, id], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      let s = await stateOf(profile, runtime, id);
      assert.is(s.status, 'created');
      assert.is(s.id, id);
      assert.is(s.bundle, bundle);
      assert.ok(s.pid > 0);
      const holder = await holderPid(profile);

      // the same id again, and the same bundle for another container: refused
      r = await oci(['create', '-b', bundle, id], profile, runtime);
      assert.is(r.code, 255);
      assert.match(r.stderr, new RegExp(`container "${id}" already exists`));
      r = await oci(['create', '-b', bundle, `${id}-b`], profile, runtime);
      assert.is(r.code, 255);
      assert.ok(r.stderr.includes(`bundle "${bundle}" is locked by container "${id}"`), r.stderr);

      r = await oci(['start', id], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      s = await stateOf(profile, runtime, id);
      assert.is(s.status, 'running');
      r = await oci(['start', id], profile, runtime);
      assert.is(r.code, 255, 'starting twice fails');
      assert.match(r.stderr, new RegExp(`cannot start container "${id}": it is running`));

      r = await oci(['exec', id, 'hostname'], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      assert.is(r.stdout, 'berth\n');
      r = await oci(['exec', id, 'sh', '-c', 'exit 7'], profile, runtime);
      assert.is(r.code, 7, r.stderr);
      r = await oci(['exec', id, 'stat', '-c', '%u', '/owned/other'], profile, runtime);
      assert.is(r.stdout, '1234\n', `image owners are kept: ${r.stderr}`);

      r = await oci(['list', '--json'], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as { id: string; status: string }[];
      for (const doc of list) assertOciState(doc);
      assert.equal(list.find((c) => c.id === id)?.status, 'running');
      r = await oci(['list'], profile, runtime);
      assert.match(r.stdout, /^ID +PID +STATUS +BUNDLE/);
      assert.match(r.stdout, new RegExp(`\\n${id} +\\d+ +running +${bundle}`));

      r = await oci(['pause', id], profile, runtime);
      if (profile === 'root') {
        assert.is(r.code, 0, r.stderr);
        s = await stateOf(profile, runtime, id);
        assert.is(s.status, 'paused', 'oci state of a paused container, as the runtime says');
        r = await oci(['list', '--json'], profile, runtime);
        assert.is(
          (JSON.parse(r.stdout) as { id: string; status: string }[]).find((c) => c.id === id)
            ?.status,
          'paused',
        );
        r = await oci(['exec', id, 'true'], profile, runtime);
        assert.is.not(r.code, 0, 'no exec in a paused container');
        r = await oci(['resume', id], profile, runtime);
        assert.is(r.code, 0, r.stderr);
        s = await stateOf(profile, runtime, id);
        assert.is(s.status, 'running');
        show(profile, runtime, 'pause and resume');
      } else {
        // rootless containers get no cgroup on this host (hybrid cgroups, no delegation):
        // both runtimes refuse to pause, and berth says why
        assert.is(r.code, 255, r.stdout);
        assert.match(r.stderr, new RegExp(`pause of container "${id}" failed: .*cgroup`));
        console.log(
          `  skip [${runtime}/${profile}] pause/resume: rootless containers have no cgroup freezer here (${r.stderr.split('\n')[0]})`,
        );
      }

      r = await oci(['delete', id], profile, runtime);
      assert.is(r.code, 255, 'a running container is not deleted without --force');
      assert.match(r.stderr, /it is running/);

      r = await oci(['kill', id, 'KILL'], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      await waitStatus(profile, runtime, id, 'stopped');
      s = await stateOf(profile, runtime, id);
      assert.is(s.pid, 0);
      r = await oci(['kill', id], profile, runtime);
      assert.is(r.code, 255, 'a stopped container cannot be killed');

      r = await oci(['delete', id], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      r = await oci(['state', id], profile, runtime);
      assert.is(r.code, 255);
      assert.match(r.stderr, new RegExp(`^berth: no container "${id}"`));
      for (const f of ['.berth-oci.lock', 'attach', 'ctl', 'winsz'])
        assert.not.ok(
          await stat(path.join(bundle, f)).then(
            () => true,
            () => false,
          ),
          `${f} left in the bundle`,
        );

      r = await oci(['umount', bundle], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, 'lifecycle', `exec exit 7, holder ${holder ?? 'none (root)'}`);
    });

    test(`${tag} attach in a terminal: type, resize, exit`, async () => {
      const { id, bundle } = names(profile, runtime, 'att');
      await mountBundle(profile, runtime, bundle, ['/bin/sh']);
      assert.is((await oci(['create', '-b', bundle, id], profile, runtime)).code, 0);
      assert.is((await oci(['start', id], profile, runtime)).code, 0);
      const holder = await holderPid(profile);

      const pty = startPty(['oci', 'attach', id], profile, runtime);
      // the shell prompted before we attached: type until an answer shows the attach works
      await waitFor(
        () => {
          pty.typeSlowly('echo at-$((40+2))\n');
          return /at-42/.test(pty.output());
        },
        20_000,
        'output through attach',
      );
      execFileSync('stty', ['-F', ptyOf(`oci attach ${id}`), 'rows', '33', 'cols', '111']);
      await waitFor(
        () => {
          pty.typeSlowly('stty size\n');
          return /33 111/.test(pty.output());
        },
        20_000,
        `the resize to reach the container; got ${JSON.stringify(pty.output())}`,
      );
      pty.type('exit 3\n');
      const r = await pty.done();
      assert.is(r.code, 3, `attach exits with the container's status: ${r.out}`);
      assertRawRelay(r.out, 'at-42');
      await waitStatus(profile, runtime, id, 'stopped');
      assert.is((await oci(['delete', id], profile, runtime)).code, 0);
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0);
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, 'attach in a pty', 'stty size 33 111, exit 3');
    });

    test(`${tag} detach keys leave the container running`, async () => {
      const { id, bundle } = names(profile, runtime, 'det');
      await mountBundle(profile, runtime, bundle, ['/bin/sh']);
      assert.is((await oci(['create', '-b', bundle, id], profile, runtime)).code, 0);
      assert.is((await oci(['start', id], profile, runtime)).code, 0);
      const pty = startPty(['oci', 'attach', id], profile, runtime);
      await waitFor(
        () => {
          pty.typeSlowly('echo d-$((1+1))\n');
          return /d-2/.test(pty.output());
        },
        20_000,
        'output through attach',
      );
      pty.type('\x10\x11');
      const r = await pty.done();
      assert.is(r.code, 0, r.out);
      assert.is((await stateOf(profile, runtime, id)).status, 'running');
      // a custom sequence, then delete --force
      const pty2 = startPty(['oci', 'attach', '--detach-keys', 'ctrl-a,d', id], profile, runtime);
      await waitFor(
        () => {
          pty2.typeSlowly('echo e-$((2+2))\n');
          return /e-4/.test(pty2.output());
        },
        20_000,
        'output through the second attach',
      );
      pty2.type('\x01d');
      assert.is((await pty2.done()).code, 0);
      assert.is((await stateOf(profile, runtime, id)).status, 'running');
      const holder = await holderPid(profile);
      const d = await oci(['delete', '--force', id], profile, runtime);
      assert.is(d.code, 0, d.stderr);
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0);
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, 'detach keys', 'ctrl-p ctrl-q and ctrl-a d');
    });

    test(`${tag} oci run in a terminal: the container's status, nothing left`, async () => {
      const { id, bundle } = names(profile, runtime, 'run');
      await mountBundle(profile, runtime, bundle, ['/bin/sh']);
      const pty = startPty(['oci', 'run', '-b', bundle, id], profile, runtime, {
        thenShowTerminal: true,
      });
      await pty.waitOutput(/# /, 'the prompt');
      const holder = await holderPid(profile);
      pty.type('echo r-$((2+3)); exit 4\n');
      const r = await pty.done();
      assert.is(r.code, 4, r.out);
      assertRawRelay(r.out.slice(0, r.out.indexOf('TERMINAL:')), 'r-5');
      // and the terminal is given back as it was: cooked, echoing, post-processing on
      const settings = r.out.slice(r.out.indexOf('TERMINAL:')).split(/[\s;]+/);
      for (const flag of ['icanon', 'echo', 'isig', 'opost', 'onlcr', 'icrnl']) {
        assert.ok(settings.includes(flag), `${flag} restored after oci run: ${r.out}`);
      }
      const s = await oci(['state', id], profile, runtime);
      assert.is(s.code, 255, 'oci run deletes the container');
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0);
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, 'oci run in a pty', 'exit 4');
    });

    test(`${tag} oci run without a terminal: stdout and stderr apart, stdin, logs, pid file`, async () => {
      const { id, bundle } = names(profile, runtime, 'pipe');
      await mountBundle(
        profile,
        runtime,
        bundle,
        ['/bin/sh', '-c', 'echo out; echo err >&2; read x; echo got:$x; exit 6'],
        false,
      );
      const logDir = path.join(work, `bundles-${profile}`);
      const log = path.join(logDir, `${id}.log`);
      const pidFile = path.join(logDir, `${id}.pid`);
      const r = await oci(
        ['run', '-b', bundle, '--log-path', log, '--log-format', 'json', '--pid-file', pidFile, id],
        profile,
        runtime,
        { input: 'hello\n' },
      );
      assert.is(r.code, 6, r.stderr);
      assert.is(r.stdout, 'out\ngot:hello\n');
      assert.is(r.stderr, 'err\n');
      const lines = (await readFile(log, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
      assert.equal(lines.map((l) => [l.stream, l.log]).sort(), [
        ['stderr', 'err\n'],
        ['stdout', 'got:hello\n'],
        ['stdout', 'out\n'],
      ]);
      assert.match(await readFile(pidFile, 'utf8'), /^\d+$/);
      // k8s-file (the default format) through create/start
      const id2 = `${id}-k8s`;
      const log2 = path.join(logDir, `${id2}.log`);
      assert.is((await oci(['create', '-b', bundle, '-l', log2, id2], profile, runtime)).code, 0);
      assert.is((await oci(['start', id2], profile, runtime)).code, 0);
      // the shell waits on its stdin pipe: attach with empty input ends it
      const at = await oci(['attach', id2], profile, runtime, { input: '' });
      assert.is(at.code, 6, `attach returns the container's status: ${at.stderr}`);
      await waitStatus(profile, runtime, id2, 'stopped');
      const k8s = await readFile(log2, 'utf8');
      assert.match(k8s, /^\S+ stdout F out$/m);
      assert.match(k8s, /^\S+ stderr F err$/m);
      assert.is((await oci(['delete', id2], profile, runtime)).code, 0);
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0);
      await assertNothingLeft(profile, id2, bundle);
      show(
        profile,
        runtime,
        'oci run with pipes',
        'stdout/stderr split, exit 6, json and k8s logs',
      );
    });

    test(`${tag} oci run of a command that exits at once: its status every time, bundle free`, async () => {
      const { id, bundle } = names(profile, runtime, 'quick');
      await mountBundle(profile, runtime, bundle, ['/bin/sh', '-c', 'echo quick; exit 3'], false);
      // the container may end while `start` is still awaited: attach must not miss that end
      for (let i = 0; i < 4; i++) {
        const r = await oci(['run', '-b', bundle, `${id}-${i}`], profile, runtime, { input: '' });
        assert.is(r.code, 3, `run ${i}: ${r.stderr}`);
        assert.is(r.stdout, 'quick\n');
      }
      // the flags from variables, as SingularityCE's users set them (issue 12)
      const log = path.join(work, `bundles-${profile}`, `${id}-env.json`);
      const pidFile = path.join(work, `bundles-${profile}`, `${id}-env.pid`);
      const r = await oci(['run', `${id}-env`], profile, runtime, {
        input: '',
        env: {
          SINGULARITY_BUNDLE: bundle,
          APPTAINER_LOG_PATH: log,
          BERTH_LOG_FORMAT: 'json',
          SINGULARITY_PID_FILE: pidFile,
        },
      });
      assert.is(r.code, 3, r.stderr);
      assert.equal(JSON.parse((await readFile(log, 'utf8')).trim()).log, 'quick\n');
      assert.match(await readFile(pidFile, 'utf8'), /^\d+$/);
      const bad = await oci(['run', `${id}-bad`], profile, runtime, {
        env: { SINGULARITY_BUNDLE: bundle, SINGULARITY_LOG_FORMAT: 'xml' },
      });
      assert.is(bad.code, 255);
      assert.match(bad.stderr, /^berth: SINGULARITY_LOG_FORMAT="xml" is refused/);
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0, 'the bundle is free');
      await assertNothingLeft(profile, `${id}-3`, bundle);
      show(profile, runtime, 'oci run of a quick command', '4 runs, exit 3 each; flags from env');
    });

    // a closing terminal (SIGHUP) or a timeout (SIGTERM): each runtime gets one of them
    const signal = runtime === 'crun' ? 'SIGTERM' : 'SIGHUP';
    test(`${tag} oci run sent ${signal}: the container gets it, oci run cleans up`, async () => {
      const { id, bundle } = names(profile, runtime, 'sig');
      const script = 'trap "echo bye; exit 3" TERM HUP; echo ready; while :; do sleep 1; done';
      await mountBundle(profile, runtime, bundle, ['/bin/sh', '-c', script], false);
      const child = startBerth(['--debug', 'oci', 'run', '-b', bundle, id], opts(profile, runtime));
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      await waitFor(() => out.includes('ready'), 20_000, `the container to start; got ${out}`);
      const holder = await holderPid(profile);
      child.kill(signal);
      const r = await child;
      assert.is(r.exitCode, 3, `the trap's status: ${r.stderr}`);
      assert.match(out, /bye/, 'the container ran its trap');
      assert.is((await oci(['state', id], profile, runtime)).code, 255, 'the container is deleted');
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0, 'the bundle is free');
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, `oci run and ${signal}`, 'trap ran, exit 3');
    });

    test(`${tag} --log-format json: the log holds the output while the container runs`, async () => {
      const { id, bundle } = names(profile, runtime, 'json');
      await mountBundle(
        profile,
        runtime,
        bundle,
        ['/bin/sh', '-c', 'echo live-line; echo live-err >&2; exec sleep 120'],
        false,
      );
      const log = path.join(work, `bundles-${profile}`, `${id}.json`);
      let r = await oci(
        ['create', '-b', bundle, '--log-format', 'json', '--log-path', log, id],
        profile,
        runtime,
      );
      assert.is(r.code, 0, r.stderr);
      const holder = await holderPid(profile);
      assert.is((await oci(['start', id], profile, runtime)).code, 0);
      const entries = async () =>
        (await readFile(log, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
      // the log converter (a helper entry of the bundled CLI) keeps the JSON log current
      await waitFor(
        async () => (await entries()).length >= 2,
        15_000,
        `the JSON log ${log} to hold the container's output`,
      );
      assert.equal((await entries()).map((e) => [e.stream, e.log]).sort(), [
        ['stderr', 'live-err\n'],
        ['stdout', 'live-line\n'],
      ]);
      assert.is((await stateOf(profile, runtime, id)).status, 'running', 'it still runs');
      assert.is(pidsMatching(`log-convert.js --follow .*${id}`).length, 1, 'one log follower');
      r = await oci(['delete', '--force', id], profile, runtime);
      assert.is(r.code, 0, r.stderr);
      assert.is((await entries()).length, 2, 'delete keeps the whole log');
      await waitFor(
        () => pidsMatching(`log-convert.js --follow .*${id}`).length === 0,
        10_000,
        'the log follower to end with the container',
      );
      assert.is((await oci(['umount', bundle], profile, runtime)).code, 0);
      await assertNothingLeft(profile, id, bundle, holder);
      show(profile, runtime, 'json log while running', 'stdout and stderr lines, follower gone');
    });
  }
}

for (const profile of PROFILES) {
  test(`[${profile}] errors exit 255 naming the container or path`, async () => {
    let r = await oci(['state', 'no-such-container'], profile, 'crun');
    assert.is(r.code, 255);
    assert.match(r.stderr, /^berth: no container "no-such-container"/);
    for (const cmd of [
      ['start'],
      ['kill'],
      ['delete'],
      ['exec', 'x', 'true'],
      ['attach'],
      ['pause'],
    ]) {
      const [verb, ...rest] = cmd as [string, ...string[]];
      r = await oci([verb, 'no-such-container', ...rest.slice(1)], profile, 'crun');
      assert.is(r.code, 255, verb);
      assert.match(r.stderr, /no container "no-such-container"/, verb);
    }
    r = await oci(['create', '-b', '/does/not/exist', 'e1'], profile, 'crun');
    assert.is(r.code, 255);
    assert.match(r.stderr, /bundle "\/does\/not\/exist" does not exist/);
    const empty = path.join(work, `bundles-${profile}`, 'empty');
    await mkdir(empty);
    if (profile === 'user') await chown(empty, user.uid, user.gid);
    r = await oci(['create', '-b', empty, 'e1'], profile, 'crun');
    assert.is(r.code, 255);
    assert.ok(r.stderr.includes(`bundle "${empty}" has no config.json`), r.stderr);
    r = await oci(['umount', empty], profile, 'crun');
    assert.is(r.code, 255);
    assert.ok(r.stderr.includes(`"${empty}" is not a bundle made by berth oci mount`), r.stderr);
    // a directory that existed before `oci mount` (for the user, under a parent they may not
    // write) is the user's: `oci umount` empties it and leaves it in place
    const parent = path.join(work, `premade-${profile}`);
    await mkdir(parent, { mode: 0o755 });
    const premade = path.join(parent, 'bundle');
    await mkdir(premade);
    if (profile === 'user') await chown(premade, user.uid, user.gid);
    r = await oci(['mount', image.ref, premade], profile, 'crun');
    assert.is(r.code, 0, r.stderr);
    r = await oci(['umount', premade], profile, 'crun');
    assert.is(r.code, 0, r.stderr);
    assert.equal(await readdir(premade), [], 'the pre-existing bundle directory is left, empty');

    const { id, bundle } = names(profile, 'crun', 'err');
    await mountBundle(profile, 'crun', bundle, ['/bin/sh']);
    // a pid file or log file the caller may not write: their error, naming the path, and
    // refused before any container exists
    const noWrite = profile === 'root' ? '/nonexistent-dir' : '/root';
    for (const [flag, what] of [
      ['--pid-file', 'pid file'],
      ['--log-path', 'log file'],
    ] as const) {
      r = await oci(['create', '-b', bundle, flag, `${noWrite}/x`, id], profile, 'crun');
      assert.is(r.code, 255, r.stderr);
      assert.ok(r.stderr.includes(`berth: cannot write the ${what} "${noWrite}/x": `), r.stderr);
      assert.not.match(r.stderr, /internal error|this is a bug/);
      assert.equal(pidsMatching(`conmon .*--cid ${id} `), [], `no conmon after ${flag}`);
    }
    r = await oci(['create', '-b', bundle, id], profile, 'crun', {
      env: { BERTH_CONMON: '/nonexistent/conmon' },
    });
    assert.is(r.code, 255);
    assert.match(r.stderr, /conmon "\/nonexistent\/conmon" does not exist/);
    r = await oci(['create', '-b', bundle, id], profile, 'crun', {
      env: { BERTH_RUNTIME: '/nonexistent/crun' },
    });
    assert.is(r.code, 255);
    assert.match(r.stderr, /runtime "\/nonexistent\/crun" does not exist/);
    // a command the runtime cannot run: the runtime's own message, nothing left
    const file = path.join(bundle, 'config.json');
    const config = JSON.parse(await readFile(file, 'utf8'));
    config.process.args = ['/no-such-binary'];
    await writeFile(file, JSON.stringify(config));
    r = await oci(['create', '-b', bundle, id], profile, 'crun');
    assert.is(r.code, 255);
    assert.match(r.stderr, new RegExp(`cannot create container "${id}": .*no-such-binary`));
    r = await oci(['umount', bundle], profile, 'crun');
    assert.is(r.code, 0, `a failed create leaves the bundle free: ${r.stderr}`);
    await assertNothingLeft(profile, id, bundle);
    await rm(empty, { recursive: true });
  });
}

test('nothing is left behind: no state, conmon, holder or mount', async () => {
  for (const profile of PROFILES) {
    const left = await readdir(path.join(ociDir(profile), 'containers')).catch(() => []);
    assert.equal(left, [], `containers left for ${profile}`);
    const holder = await readFile(path.join(ociDir(profile), 'holder.json'), 'utf8').catch(
      () => undefined,
    );
    assert.is(holder, undefined, `holder record left for ${profile}`);
  }
  assert.equal(pidsMatching('conmon .*--cid e2e-'), []);
  assert.equal(
    pidsMatching('^sleep infinity$').filter((p) => {
      try {
        return readFileSync(`/proc/${p}/status`, 'utf8').includes(`Uid:\t${user.uid}`);
      } catch {
        return false;
      }
    }),
    [],
    'a namespace holder of the user still runs',
  );
  assert.equal(await hostMountsMatching(work), []);
});

test.run();
