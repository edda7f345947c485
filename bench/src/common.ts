import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the bench keeps its images and scratch space (ignored by git). */
export const WORK = process.env.BERTH_BENCH_DIR ?? path.join(REPO, '.berth-work', 'bench');
export const IMAGES = path.join(WORK, 'images');
/** The unprivileged user the benches run as (the e2e harness creates it). */
export const BENCH_USER = process.env.BERTH_BENCH_USER ?? 'berth-e2e';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
