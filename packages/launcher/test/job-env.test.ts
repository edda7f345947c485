import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildEnv } from '../src/env.js';
import { isJobVar, jobBinds, jobLaunch, jobVarNames } from '../src/job-env.js';

const base = {
  imageEnv: [] as string[],
  userEnv: [] as string[],
  home: '/home/u',
  imageHasUser: false,
};

test('the scheduler and MPI variables are recognised by prefix and by name', () => {
  for (const k of [
    'SLURM_PROCID',
    'PMI_RANK',
    'PMIX_RANK',
    'OMPI_COMM_WORLD_RANK',
    'PRTE_MCA_x',
    'HYDRA_PROXY',
    'MPI_LOCALRANKID',
    'MPI_LOCALNRANKS',
    'I_MPI_PIN',
    'UCX_TLS',
    'FI_PROVIDER',
  ])
    assert.ok(isJobVar(k), k);
  for (const k of ['SLURM_', 'SLURMX', 'OMPI', 'MPI_RANK', 'HOME', 'PATH', 'XFI_A'])
    assert.not.ok(isJobVar(k), k);
  assert.equal(jobVarNames({ SLURM_PROCID: '1', PMIX_RANK: '1', FOO: 'x', UCX_TLS: undefined }), [
    'PMIX_RANK',
    'SLURM_PROCID',
  ]);
});

test('with jobEnv, the compat environment passes the job variables (and not others)', () => {
  const hostEnv = { SLURM_PROCID: '3', OMPI_COMM_WORLD_RANK: '3', SECRET: 'x', TERM: 'xterm' };
  const env = buildEnv({ ...base, hostEnv, jobEnv: true });
  assert.ok(env.includes('SLURM_PROCID=3'));
  assert.ok(env.includes('OMPI_COMM_WORLD_RANK=3'));
  assert.ok(env.includes('TERM=xterm'));
  assert.not.ok(env.some((e) => e.startsWith('SECRET=')));
  // --cleanenv: jobEnv false
  const clean = buildEnv({ ...base, hostEnv });
  assert.not.ok(clean.some((e) => e.startsWith('SLURM_')));
  // the user's variables win over the host's
  const user = buildEnv({ ...base, hostEnv, jobEnv: true, userEnv: ['SLURM_PROCID=9'] });
  assert.ok(user.includes('SLURM_PROCID=9'));
  assert.not.ok(user.includes('SLURM_PROCID=3'));
});

test('jobBinds binds the PMIx server and session directories that exist, once each', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'job-env-'));
  try {
    const server = path.join(dir, 'pid.1');
    const dstore = path.join(server, 'pmix_dstor_ds21_1');
    const slurm = path.join(dir, 'pmix.5.0');
    await mkdir(dstore, { recursive: true });
    await mkdir(slurm);
    assert.equal(
      await jobBinds({
        PMIX_SERVER_TMPDIR: server,
        PMIX_DSTORE_21_BASE_PATH: dstore,
        PMIX_DSTORE_ESH_BASE_PATH: path.join(server, 'missing'),
        OMPI_MCA_orte_jobfam_session_dir: `${server}/`,
        PMIX_SYSTEM_TMPDIR: '/tmp',
      }),
      [{ source: server, destination: server, readonly: false }],
    );
    assert.equal(await jobBinds({ PMIX_SERVER_TMPDIR: slurm }), [
      { source: slurm, destination: slurm, readonly: false },
    ]);
    assert.equal(await jobBinds({ PMIX_SERVER_TMPDIR: 'relative/dir' }), []);
    assert.equal(await jobBinds({ PMIX_SERVER_TMPDIR: '/' }), []);
    assert.equal(await jobBinds({}), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an MPI rank gets the host /dev/shm and PID namespace; a plain job step does not', async () => {
  const shm = { source: '/dev/shm', destination: '/dev/shm', readonly: false };
  for (const k of ['PMIX_RANK', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK']) {
    assert.equal(await jobLaunch({ [k]: '0' }), { binds: [shm], hostPid: true }, k);
  }
  assert.equal(await jobLaunch({ SLURM_PROCID: '0', PMIX_RANK: '' }), {
    binds: [],
    hostPid: false,
  });
});

test.run();
