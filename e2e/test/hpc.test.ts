/**
 * berth on an HPC node (issue 12), with real components the suite starts itself: a
 * single-node Slurm (slurmctld, slurmd, munged), OpenMPI's mpirun, and Snakemake 7 with berth
 * linked as `singularity`. Everything runs as the unprivileged user, as HPC jobs do; the MPI
 * cases under crun and runc.
 */
import { chown, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BERTH,
  ensureUser,
  pidsMatching,
  RUNTIMES,
  type RuntimeName,
  requireRoot,
  type User,
  waitFor,
  workDir,
} from '../src/harness.js';
import { buildMpiImage, type Slurm, startSlurm } from '../src/hpc.js';
import { buildDemoImage, type TestImage } from '../src/images.js';
import { type Registry, skopeoCopy, startRegistry } from '../src/registry.js';

requireRoot();

let user: User;
let work: string;
let slurm: Slurm;
let registry: Registry;
let mpi: TestImage;
let demo: TestImage;
/** A directory on the user's PATH with `singularity` → berth's built bin. */
let bin: string;
/** The job that runs into its time limit, submitted first and checked last. */
let timeLimited: { id: string; out: string; marker: string } | undefined;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `argv` as the unprivileged user in `cwd` with the job environment (SLURM_CONF, the cache). */
async function asUser(
  argv: string[],
  o: { cwd?: string; env?: Record<string, string>; runtime?: RuntimeName; timeout?: number } = {},
): Promise<Run> {
  const r = await execa(
    'setpriv',
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv],
    {
      cwd: o.cwd ?? work,
      reject: false,
      extendEnv: false,
      timeout: o.timeout ?? 120_000,
      stdin: 'ignore',
      env: {
        PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
        HOME: user.home,
        USER: user.name,
        LOGNAME: user.name,
        BERTH_RUNTIME: o.runtime ?? 'crun',
        BERTH_CACHEDIR: path.join(work, 'cache-user'),
        ...slurm.env,
        ...o.env,
      },
    },
  );
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const berthExec = (image: string, ...args: string[]) => [
  process.execPath,
  BERTH,
  'exec',
  image,
  ...args,
];

/** The user's directory under the work directory. */
async function userDir(name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await chown(dir, user.uid, user.gid);
  return dir;
}

async function squeueIds(): Promise<string[]> {
  const r = await execa('squeue', ['-h', '-o', '%i'], { env: slurm.env, reject: false });
  return String(r.stdout).split('\n').filter(Boolean);
}

test.before(async () => {
  try {
    await setUp();
  } catch (e) {
    console.error('hpc set-up failed:', e); // uvu stops without saying why
    await tearDown();
    throw e;
  }
});

async function setUp(): Promise<void> {
  user = ensureUser();
  work = await workDir('berth-e2e-hpc-');
  await userDir('cache-user');
  bin = path.join(work, 'bin');
  await mkdir(bin);
  await symlink(BERTH, path.join(bin, 'singularity'));
  slurm = await startSlurm(path.join(work, 'slurm'));
  mpi = await buildMpiImage(path.join(work, 'layout'));
  demo = await buildDemoImage(path.join(work, 'layout'));
  registry = await startRegistry(path.join(work, 'registry'));
  await skopeoCopy(demo.ref, `docker://${registry.host}/berth/demo:v1`);
  // unpacked once for the user before the jobs, so that each test times only itself
  const warm = await asUser(berthExec(mpi.ref, 'true'));
  assert.is(warm.code, 0, warm.stderr);

  // a job that runs into its 1-minute time limit: submitted now, checked by the last test
  const jobs = await userDir('jobs');
  const marker = 'sleep 3171';
  const script = path.join(jobs, 'limited.sh');
  await writeFile(
    script,
    `#!/bin/sh\nsrun ${berthExec(mpi.ref, 'sh', '-c', `'echo started; exec ${marker}'`).join(' ')}\n`,
    { mode: 0o755 },
  );
  const out = path.join(jobs, 'limited.out');
  const r = await asUser(['sbatch', '--parsable', '--time=1', '-o', out, script], { cwd: jobs });
  assert.is(r.code, 0, r.stderr);
  timeLimited = { id: r.stdout.trim(), out, marker };
}

test.after(() => tearDown());

/** Stops what set-up started (the jobs, Slurm, the registry) and removes the work directory. */
async function tearDown(): Promise<void> {
  const [r, sl, w] = [registry, slurm, work];
  [registry, slurm, work] = [undefined as unknown as Registry, undefined as unknown as Slurm, ''];
  await r?.stop();
  if (sl) {
    await execa('scancel', ['--user', user.name], { env: sl.env, reject: false });
    const ids = async () =>
      String((await execa('squeue', ['-h', '-o', '%i'], { env: sl.env, reject: false })).stdout);
    await waitFor(async () => (await ids()).trim() === '', 30_000, 'no jobs').catch(() => {});
    await sl.stop();
  }
  if (w) await rm(w, { recursive: true, force: true });
}

/**
 * The runtime states (`<state root>/berth-*`) of launch containers whose command names
 * `marker`. Slurm kills berth together with its runtime, so they are left behind until a later
 * launch of the user's sweeps them (sweep.ts); this runs one (once they are old enough to be
 * examined) and returns what is still there.
 */
async function statesLeftAfterALaunch(marker: string): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 5_500)); // the sweep skips states under 5 s old
  const launch = await asUser(berthExec(mpi.ref, 'true'));
  assert.is(launch.code, 0, launch.stderr);
  const root = path.join('/tmp', `berth-${user.uid}`);
  const left: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith('berth-')) continue;
    // crun keeps the spec in config.json, runc inside state.json
    const read = (f: string) => readFile(path.join(root, name, f), 'utf8').catch(() => '');
    if (`${await read('config.json')}${await read('state.json')}`.includes(marker)) left.push(name);
  }
  return left;
}

test('srun -n 4: four containers, each with its own SLURM_PROCID, one unpack', async () => {
  const cache = await userDir('cache-srun');
  const r = await asUser(
    [
      'srun',
      '-n',
      '4',
      ...berthExec(mpi.ref, 'sh', '-c', 'echo "task $SLURM_PROCID of $SLURM_NTASKS"'),
    ],
    { env: { BERTH_CACHEDIR: cache } },
  );
  assert.is(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.trim().split('\n').sort(),
    [0, 1, 2, 3].map((i) => `task ${i} of 4`),
  );
  const unpacks = r.stderr.split('\n').filter((l) => /^berth: unpacked oci:/.test(l));
  assert.is(unpacks.length, 1, r.stderr);
});

test('--cleanenv drops the scheduler variables', async () => {
  const r = await asUser([
    'srun',
    '-n',
    '1',
    process.execPath,
    BERTH,
    'exec',
    '--cleanenv',
    mpi.ref,
    'sh',
    '-c',
    'echo "procid=$SLURM_PROCID"',
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), 'procid=');
});

test('sbatch --wait of a script that calls srun berth exec', async () => {
  const jobs = await userDir('jobs');
  const script = path.join(jobs, 'batch.sh');
  await writeFile(
    script,
    `#!/bin/sh\nsrun ${berthExec(mpi.ref, 'sh', '-c', `'echo "batch $SLURM_PROCID"'`).join(' ')}\n`,
    { mode: 0o755 },
  );
  const out = path.join(jobs, 'batch.out');
  const r = await asUser(['sbatch', '--wait', '-n', '2', '-o', out, script], { cwd: jobs });
  assert.is(r.code, 0, r.stderr);
  const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => l.startsWith('batch '));
  assert.equal(lines.sort(), ['batch 0', 'batch 1']);
});

test('scancel reaches the containers, and nothing is left on the node', async () => {
  const jobs = await userDir('jobs');
  const marker = 'sleep 3172';
  const script = path.join(jobs, 'cancel.sh');
  await writeFile(
    script,
    `#!/bin/sh\nsrun ${berthExec(mpi.ref, 'sh', '-c', `'echo started; exec ${marker}'`).join(' ')}\n`,
    { mode: 0o755 },
  );
  const out = path.join(jobs, 'cancel.out');
  const r = await asUser(['sbatch', '--parsable', '-n', '2', '-o', out, script], { cwd: jobs });
  assert.is(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  await waitFor(
    async () => (await readFile(out, 'utf8').catch(() => '')).split('started').length === 3,
    60_000,
    'both containers to start',
  );
  assert.is(pidsMatching(`^${marker}$`).length, 2);
  const c = await asUser(['scancel', id]);
  assert.is(c.code, 0, c.stderr);
  await waitFor(async () => !(await squeueIds()).includes(id), 60_000, `job ${id} to end`);
  // the containers' processes, and srun's and berth's (their command lines name the marker)
  await waitFor(() => pidsMatching(marker).length === 0, 15_000, 'the job to be gone');
  assert.equal(await statesLeftAfterALaunch(marker), [], 'runtime state of the killed containers');
});

for (const runtime of RUNTIMES) {
  const expected = ['rank 0 of 2 sum 3', 'rank 1 of 2 sum 3'];
  test(`${runtime}: mpirun -n 2 --mca btl tcp,self berth exec IMG mpi-hello`, async () => {
    const r = await asUser(
      ['mpirun', '-n', '2', '--mca', 'btl', 'tcp,self', ...berthExec(mpi.ref, 'mpi-hello')],
      { runtime },
    );
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').sort(), expected, r.stderr);
  });

  test(`${runtime}: srun --mpi=pmix -n 2 berth exec IMG mpi-hello`, async () => {
    const r = await asUser(['srun', '--mpi=pmix', '-n', '2', ...berthExec(mpi.ref, 'mpi-hello')], {
      runtime,
    });
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').sort(), expected, r.stderr);
  });
}

test('Snakemake --use-singularity with berth as singularity: a pulled image and an image file', async () => {
  const dir = await userDir('snakemake');
  const version = await asUser(['singularity', '--version']);
  assert.match(version.stdout, /^singularity-ce \(berth [^)]+\) version \d+\.\d+\.\d+$/);
  const file = path.join(dir, 'local.oci');
  // a plain-HTTP registry on loopback needs no --no-https
  const pull = await asUser(
    ['singularity', 'pull', '--name', file, `docker://${registry.host}/berth/demo:v1`],
    { cwd: dir },
  );
  assert.is(pull.code, 0, pull.stderr);
  await writeFile(
    path.join(dir, 'Snakefile'),
    [
      'shell.executable("/bin/sh")',
      'rule all:',
      '    input: "pulled.txt", "local.txt"',
      'rule pulled:',
      '    output: "pulled.txt"',
      `    container: "docker://${registry.host}/berth/demo:v1"`,
      '    shell: "test -e /etc/debian_version || echo in-container $(id -u) $FROM_JOB > {output}"',
      'rule local:',
      '    output: "local.txt"',
      `    container: "${file}"`,
      '    shell: "test -e /etc/debian_version || pwd > {output}"',
      '',
    ].join('\n'),
  );
  await chown(path.join(dir, 'Snakefile'), user.uid, user.gid);
  const r = await asUser(['snakemake', '--cores', '1', '--use-singularity'], {
    cwd: dir,
    env: { SINGULARITYENV_FROM_JOB: 'env-ok' },
    timeout: 180_000,
  });
  assert.is(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.is(
    await readFile(path.join(dir, 'pulled.txt'), 'utf8'),
    `in-container ${user.uid} env-ok\n`,
  );
  // the working directory (and --home, Snakemake passes it) is the host's, as natively
  assert.is(await readFile(path.join(dir, 'local.txt'), 'utf8'), `${dir}\n`);
});

test('as singularity, a lone --home DIR is the host DIR (native); with --oci, a tmpfs (compat)', async () => {
  const dir = await userDir('home-native');
  const cwd = await userDir('elsewhere');
  const script = 'touch "$HOME/made-$0" && pwd';
  const native = await asUser(
    ['singularity', 'exec', '--home', dir, mpi.ref, 'sh', '-c', script, 'native'],
    { cwd },
  );
  assert.is(native.code, 0, native.stderr);
  assert.is(native.stdout.trim(), cwd); // the host working directory
  const compat = await asUser(
    ['singularity', 'exec', '--oci', '--home', dir, mpi.ref, 'sh', '-c', script, 'oci'],
    { cwd },
  );
  assert.is(compat.code, 0, compat.stderr);
  assert.is(compat.stdout.trim(), dir); // compat: the home, a tmpfs
  assert.equal(await readdir(dir), ['made-native']);
  // from / the working directory is not bound (the host root cannot go over the container's)
  const root = await asUser(['singularity', 'exec', mpi.ref, 'pwd'], { cwd: '/' });
  assert.is(root.code, 0, root.stderr);
  assert.is(root.stdout.trim(), '/');
});

test('a time limit ends the job and its containers, and nothing is left', async () => {
  const job = timeLimited as NonNullable<typeof timeLimited>;
  assert.ok((await readFile(job.out, 'utf8').catch(() => '')).includes('started'));
  // Slurm checks time limits every 30 s or so: up to 2.5 minutes in all since submission
  await waitFor(async () => !(await squeueIds()).includes(job.id), 150_000, 'the time limit');
  assert.match(await readFile(job.out, 'utf8'), /DUE TO TIME LIMIT/);
  await waitFor(() => pidsMatching(job.marker).length === 0, 15_000, 'the job to be gone');
  assert.equal(
    await statesLeftAfterALaunch(job.marker),
    [],
    'runtime state of the killed container',
  );
});

test.run();
