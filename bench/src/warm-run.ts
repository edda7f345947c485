/**
 * Warm-run benchmark (issue 5): `berth exec IMAGE true` with a warm cache, against
 * `podman run --rm` of the same image (already stored; runc, cgroupfs, no network) and raw
 * `runc run` of a prepared bundle, all as the unprivileged user, side by side in one hyperfine
 * run. Prints hyperfine's Markdown table.
 *
 *   tsx src/warm-run.ts [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_USER, IMAGES, REPO, WORK } from './common.ts';

const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 30;
const passwd = execFileSync('getent', ['passwd', BENCH_USER], { encoding: 'utf8' })
  .trim()
  .split(':');
const [uid, gid, home] = [Number(passwd[2]), Number(passwd[3]), passwd[5] as string];
const layout = path.join(IMAGES, 'busybox');
const ref = `oci:${layout}:bench`;
const berth = path.join(REPO, 'packages/cli/dist/cli.js');
const dir = path.join(WORK, 'warm-run');
const xdg = path.join(dir, 'xdg');
const cache = path.join(dir, 'berth-cache');
const bundle = path.join(dir, 'runc-bundle');

rmSync(dir, { recursive: true, force: true });
for (const d of [dir, xdg, cache]) {
  mkdirSync(d, { recursive: true });
  chownSync(d, uid, gid);
  chmodSync(d, 0o700);
}
chmodSync(dir, 0o755);
const env = {
  HOME: home,
  XDG_RUNTIME_DIR: xdg,
  PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
  BERTH_CACHEDIR: cache,
};
const asUser = (argv: string[], opts: { stdio?: 'inherit' } = {}) =>
  execFileSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--init-groups',
      '--',
      'env',
      '-i',
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...argv,
    ],
    {
      encoding: 'utf8',
      cwd: dir,
      stdio: opts.stdio ?? ['ignore', 'pipe', 'inherit'],
    },
  );

// podman: the image in the user's containers-storage
asUser([
  'skopeo',
  'copy',
  '-q',
  `oci:${layout}:bench`,
  'containers-storage:localhost/berth-bench:latest',
]);
// raw runc: a rootless bundle unpacked by umoci, running `true`
asUser(['umoci', 'unpack', '--rootless', '--image', `${layout}:bench`, bundle]);
const config = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
config.process.args = ['true'];
config.process.terminal = false;
writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
// berth: warm the cache
asUser(['node', berth, 'exec', '--runtime', 'runc', ref, 'true']);

const podman =
  'podman --events-backend=file --cgroup-manager=cgroupfs run --rm --runtime runc --network none localhost/berth-bench:latest true';
const commands = [
  [`runc run (prepared bundle)`, `runc --root ${xdg}/runc run -b ${bundle} bench`],
  [`berth exec (runc)`, `node ${berth} exec --runtime runc ${ref} true`],
  [`berth exec (crun)`, `node ${berth} exec --runtime crun ${ref} true`],
  [`podman run --rm (runc)`, podman],
];
const md = path.join(dir, 'results.md');
const hf = ['hyperfine', '-N', '--warmup', '3', '--runs', String(runs), '--export-markdown', md];
for (const [name, cmd] of commands) hf.push('-n', name as string, cmd as string);
execFileSync('chown', [`${uid}:${gid}`, dir]);
asUser(hf, { stdio: 'inherit' });
console.log(readFileSync(md, 'utf8'));
