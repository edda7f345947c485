/**
 * What a container started by a batch scheduler or an MPI launcher needs from the host to know
 * where it is: the scheduler's and the MPI library's variables, and the directories of the PMIx
 * server it must reach (OpenMPI's and Slurm's hybrid model: one rank per container, each a
 * client of the launcher's PMIx server outside).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { BindSpec } from '@berth-oci/mounts';

/**
 * Prefixes of the host variables passed to every container unless `--cleanenv`: Slurm, PMI and
 * PMIx, OpenMPI (its ORTE/PRRTE launchers), MPICH's Hydra, Intel MPI, UCX and libfabric.
 */
export const JOB_ENV_PREFIXES = [
  'SLURM_',
  'PMI_',
  'PMIX_',
  'OMPI_',
  'PRTE_',
  'HYDRA_',
  'I_MPI_',
  'UCX_',
  'FI_',
] as const;

/** Single host variables passed the same way (MPICH's Hydra sets them for each rank). */
export const JOB_ENV_NAMES = ['MPI_LOCALRANKID', 'MPI_LOCALNRANKS'] as const;

/**
 * Host variables naming directories of the PMIx server and of OpenMPI's session that a rank
 * opens: the rendezvous and shared-memory (dstore) files of the server, and the job's session
 * directory. `PMIX_SYSTEM_TMPDIR` is not among them: it is usually /tmp itself, and only tools
 * connect there.
 */
export const JOB_DIR_VARS = [
  'PMIX_SERVER_TMPDIR',
  'PMIX_DSTORE_21_BASE_PATH',
  'PMIX_DSTORE_ESH_BASE_PATH',
  'OMPI_MCA_orte_jobfam_session_dir',
] as const;

/** Variables that say this process is a rank of an MPI job (PMIx, OpenMPI, PMI-1/2). */
export const MPI_RANK_VARS = ['PMIX_RANK', 'OMPI_COMM_WORLD_RANK', 'PMI_RANK'] as const;

/** Whether host variable `name` is a scheduler's or an MPI library's. */
export function isJobVar(name: string): boolean {
  return (
    (JOB_ENV_NAMES as readonly string[]).includes(name) ||
    JOB_ENV_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length)
  );
}

/** The names of the scheduler and MPI variables set in `hostEnv`, sorted. */
export function jobVarNames(hostEnv: Record<string, string | undefined>): string[] {
  return Object.keys(hostEnv)
    .filter((k) => hostEnv[k] !== undefined && isJobVar(k))
    .sort();
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** What a launch does for the job it is part of (see `jobLaunch`). */
export interface JobLaunch {
  /** Binds at the same path: the PMIx server's directories, and /dev/shm for an MPI rank. */
  binds: BindSpec[];
  /** Stay in the host's PID namespace (an MPI rank: its shared-memory transport needs it). */
  hostPid: boolean;
}

/** A launch outside any job, or with `--cleanenv`. */
export const NO_JOB: JobLaunch = { binds: [], hostPid: false };

/**
 * What the hybrid MPI model needs of a container started as one rank: the PMIx server's
 * directories (`jobBinds`) and, when `hostEnv` says this is an MPI rank (`MPI_RANK_VARS`), the
 * host's /dev/shm and PID namespace, as SingularityCE's native mode has them — OpenMPI's
 * shared-memory transport (vader) maps the other ranks' segments there and finds them by pid.
 */
export async function jobLaunch(hostEnv: Record<string, string | undefined>): Promise<JobLaunch> {
  const binds = await jobBinds(hostEnv);
  const rank = MPI_RANK_VARS.some((k) => hostEnv[k] !== undefined && hostEnv[k] !== '');
  if (rank && (await isDir('/dev/shm')))
    binds.push({ source: '/dev/shm', destination: '/dev/shm', readonly: false });
  return { binds, hostPid: rank };
}

/**
 * The directories of `JOB_DIR_VARS` that exist, each bound read-write at the same path, one
 * bind for a directory and everything under it (a directory inside another bound one is left
 * out). Relative paths and ones that do not exist are skipped: the variable is then the MPI
 * library's business, not the container's.
 */
export async function jobBinds(hostEnv: Record<string, string | undefined>): Promise<BindSpec[]> {
  const dirs: string[] = [];
  for (const name of JOB_DIR_VARS) {
    const value = hostEnv[name];
    if (!value || !path.isAbsolute(value)) continue;
    const dir = path.resolve(value);
    if (dir === '/' || dirs.includes(dir) || !(await isDir(dir))) continue;
    dirs.push(dir);
  }
  const inside = (d: string, parent: string) => d !== parent && d.startsWith(`${parent}/`);
  return dirs
    .filter((d) => !dirs.some((parent) => inside(d, parent)))
    .map((d) => ({ source: d, destination: d, readonly: false }));
}
