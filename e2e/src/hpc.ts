/**
 * An HPC node for the e2e suite, started by the suite itself: a single-node Slurm (Debian's
 * slurm-wlm with munge) whose files all live in one work directory, and an MPI image made from
 * the host's own OpenMPI (its libraries and plugins, and an MPI program compiled with the
 * host's mpicc), so that the container's OpenMPI matches the launcher's outside.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { sleep } from './harness.js';
import { BUSYBOX, type TestImage } from './images.js';
import { writeOciImage } from './oci-layout.js';
import { freePort } from './registry.js';

/** The MPI program of the image: prints `rank R of N sum S` (S = 1 + 2 + ... + N, an Allreduce). */
const MPI_HELLO = `#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv) {
  int rank, size, one, sum;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  one = rank + 1;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d of %d sum %d\\n", rank, size, sum);
  MPI_Finalize();
  return 0;
}
`;

/** The busybox applets of the MPI image. */
const APPLETS = [
  'sh',
  'env',
  'cat',
  'ls',
  'echo',
  'sleep',
  'id',
  'pwd',
  'true',
  'false',
  'test',
  'kill',
];

const MULTIARCH = (() => {
  try {
    return execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
  } catch {
    return 'x86_64-linux-gnu';
  }
})();
const LIBDIR = `/usr/lib/${MULTIARCH}`;

/** The shared libraries `files` need, by ldd (the dynamic loader included). */
function sharedLibraries(files: string[]): string[] {
  const libs = new Set<string>();
  // one ldd for all (it prints each file's list under its name); ldd fails if one is not dynamic
  let out = '';
  try {
    out = execFileSync('ldd', files, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.add(m[1]);
  }
  return [...libs].sort();
}

function listFiles(dir: string, suffix: RegExp): string[] {
  const out = execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8' });
  return out.split('\n').filter((f) => suffix.test(f));
}

/**
 * Builds the MPI image `mpi` into the layout: busybox, the host's OpenMPI libraries, plugins,
 * help texts and configuration with everything they link, and /usr/bin/mpi-hello.
 */
export async function buildMpiImage(layout: string): Promise<TestImage> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-mpi-'));
  try {
    const root = path.join(work, 'root');
    for (const d of ['bin', 'usr/bin', 'usr/share', `usr/lib/${MULTIARCH}`, 'lib64', 'etc']) {
      await mkdir(path.join(root, d), { recursive: true });
    }
    for (const d of ['tmp', 'var/tmp', 'root', 'home', 'proc', 'sys', 'dev']) {
      await mkdir(path.join(root, d), { recursive: true });
    }
    await chmod(path.join(root, 'tmp'), 0o1777);
    await chmod(path.join(root, 'var/tmp'), 0o1777);
    await symlink('usr/lib', path.join(root, 'lib'));
    await copyFile(BUSYBOX, path.join(root, 'bin/busybox'));
    await chmod(path.join(root, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) await symlink('busybox', path.join(root, 'bin', applet));
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(path.join(root, 'etc/group'), 'root:x:0:\n');

    const src = path.join(work, 'mpi-hello.c');
    const prog = path.join(root, 'usr/bin/mpi-hello');
    await writeFile(src, MPI_HELLO);
    await execa('mpicc', ['-O1', '-o', prog, src]);

    const pluginDirs = [`${LIBDIR}/openmpi`, `${LIBDIR}/pmix2`].filter(exists);
    const plugins = pluginDirs.flatMap((d) => listFiles(d, /\.so[.0-9]*$/));
    for (const lib of sharedLibraries([prog, ...plugins])) {
      const dest = lib.startsWith('/lib64/')
        ? path.join(root, lib)
        : path.join(root, 'usr/lib', MULTIARCH, path.basename(lib));
      await copyFile(lib, dest); // follows the symlink: the file under its soname
    }
    // the plugins and their own symlinks, the help texts and the MCA parameter files
    for (const d of [...pluginDirs, '/usr/share/openmpi', '/etc/openmpi'].filter(exists)) {
      await cp(d, path.join(root, d), { recursive: true, verbatimSymlinks: true });
    }
    const manifestDigest = await writeOciImage(
      layout,
      'mpi',
      [{ dir: root, compression: 'none', rootOwned: true }],
      {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        Cmd: ['/usr/bin/mpi-hello'],
      },
    );
    return { layout, tag: 'mpi', ref: `oci:${layout}:mpi`, manifestDigest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function exists(p: string): boolean {
  try {
    execFileSync('test', ['-e', p]);
    return true;
  } catch {
    return false;
  }
}

/** A running single-node Slurm. */
export interface Slurm {
  /** The environment srun/sbatch/scancel/squeue need (SLURM_CONF). */
  env: Record<string, string>;
  /** The node's name (this host's short name). */
  node: string;
  /** Where the daemons' logs are. */
  dir: string;
  stop(): Promise<void>;
}

async function daemonPid(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function stopDaemon(pidFile: string): Promise<void> {
  const pid = await daemonPid(pidFile);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Starts munged, slurmctld and slurmd (as root) with every file under `dir` (0755, root's), one
 * node of `nproc` CPUs (4 at least) in one partition with OverSubscribe=FORCE, and waits until the node is
 * idle. `stop()` stops them again.
 */
export async function startSlurm(dir: string): Promise<Slurm> {
  const node = os.hostname().split('.')[0] as string;
  // at least 4 CPUs (srun -n 4 on a 2-CPU machine), which slurmd takes with config_overrides
  const cpus = Math.max(4, os.availableParallelism());
  const munge = path.join(dir, 'munge');
  const spool = path.join(dir, 'slurmd');
  const state = path.join(dir, 'slurmctld');
  for (const d of [munge, spool, state]) await mkdir(d, { recursive: true, mode: 0o755 });
  const key = path.join(munge, 'munge.key');
  await writeFile(key, randomBytes(128), { mode: 0o400 });
  const socket = path.join(munge, 'munge.socket');
  const pids = {
    munged: path.join(munge, 'munged.pid'),
    slurmctld: path.join(dir, 'slurmctld.pid'),
    slurmd: path.join(dir, 'slurmd.pid'),
  };
  const stop = async () => {
    await stopDaemon(pids.slurmd);
    await stopDaemon(pids.slurmctld);
    await stopDaemon(pids.munged);
  };
  const conf = path.join(dir, 'slurm.conf');
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  await writeFile(
    conf,
    [
      'ClusterName=berth-e2e',
      `SlurmctldHost=${node}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${state}`,
      `SlurmdSpoolDir=${spool}`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${path.join(dir, 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'ReturnToService=2',
      'SlurmdParameters=config_overrides',
      'KillWait=5',
      'InactiveLimit=0',
      'MinJobAge=2',
      `NodeName=${node} CPUs=${cpus} State=UNKNOWN`,
      'PartitionName=e2e Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE',
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  try {
    await execa('munged', [
      '--force',
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${pids.munged}`,
      `--log-file=${path.join(munge, 'munged.log')}`,
      `--seed-file=${path.join(munge, 'munged.seed')}`,
    ]);
    await execa('slurmctld', ['-f', conf, '-i'], { env });
    await execa('slurmd', ['-f', conf, '-N', node], { env });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await execa('sinfo', ['-h', '-N', '-o', '%T'], { env, reject: false });
      if (String(r.stdout).trim() === 'idle') break;
      if (Date.now() > deadline)
        throw new Error(`slurm node ${node} is not idle after 60 s: ${r.stdout}${r.stderr}`);
      await sleep(250);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, node, dir, stop };
}
