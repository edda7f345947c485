#!/usr/bin/env node
// Sets up everything berth needs on a Debian 12 machine with Node.js, idempotently:
// Debian packages (through apt when root), pnpm 12.4.2, the dependencies (frozen lockfile),
// and the build. Fast the second time: each step checks before it acts.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '12.4.2';
// What berth runs on (crun/runc, conmon, newuidmap from uidmap, unshare from util-linux),
// and what its tests use (busybox-static for images, skopeo and umoci to make layouts as other tools do).
const RUNTIME_PACKAGES = ['crun', 'runc', 'conmon', 'uidmap', 'util-linux', 'busybox-static'];
// docker-registry and apache2-utils (htpasswd) serve images on loopback; zstd makes zstd layers.
// man-db (with groff-base) renders the installed man pages in the install test.
// The HPC test (e2e/test/hpc.test.ts): a single-node Slurm (slurm-wlm, munge), OpenMPI (mpirun,
// and mpicc with gcc to compile the MPI program of its image) and Snakemake 7; about 1.7 min
// of apt on a fresh Debian 12.
// golang-github-sylabs-sif-dev: the reference SIF implementation's source, whose test images
// the SIF reader's tests parse; squashfs-tools: unsquashfs reads their system partitions.
const TEST_PACKAGES = [
  'skopeo',
  'umoci',
  'passwd',
  'docker-registry',
  'apache2-utils',
  'zstd',
  'man-db',
  'slurm-wlm',
  'munge',
  'openmpi-bin',
  'libopenmpi-dev',
  'gcc',
  'snakemake',
  'golang-github-sylabs-sif-dev',
  'squashfs-tools',
];
const withTests = process.argv.includes('--tests') || process.env.npm_lifecycle_event === 'test';

const log = (msg) => process.stderr.write(`setup: ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    log(`failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function missingDebianPackages(pkgs) {
  return pkgs.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', `-f=${'$'}{Status}`, p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

const wanted = withTests ? [...RUNTIME_PACKAGES, ...TEST_PACKAGES] : RUNTIME_PACKAGES;
const missing = missingDebianPackages(wanted);
if (missing.length > 0) {
  if (process.getuid?.() === 0) {
    log(`installing Debian packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env });
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  } else {
    log(`missing Debian packages: ${missing.join(' ')}`);
    log(`install them as root: apt-get install ${missing.join(' ')}`);
    process.exit(1);
  }
}

function pnpmVersion() {
  try {
    return execFileSync('pnpm', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}
if (pnpmVersion() !== PNPM_VERSION) {
  log(`installing pnpm ${PNPM_VERSION}`);
  run('npm', ['install', '-g', '--no-fund', '--no-audit', `pnpm@${PNPM_VERSION}`]);
}

run('pnpm', ['install', '--frozen-lockfile', '--reporter=silent']);
run('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
});
log('ready');
