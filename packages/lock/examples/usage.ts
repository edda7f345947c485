import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, withLock } from '@berth-oci/lock';

const dir = await mkdtemp(join(tmpdir(), 'my-app-'));
const file = join(dir, 'cache.lock'); // made if missing; its directory must exist

// Wait for the lock, run, and free it however the function ends.
const count = await withLock(file, async () => {
  // ... only one process at a time runs this ...
  return 42;
});
console.log(count); // 42

// Do not wait: undefined when another process holds the lock.
const lock = await acquireLock(file, { wait: false });
if (lock === undefined) {
  console.log('busy, try later');
} else {
  try {
    // ... work ...
  } finally {
    await lock.release(); // calling it twice is harmless
  }
}

// Wait at most 5 s, or until the signal fires.
const ac = new AbortController();
const held = await acquireLock(file, { timeoutMs: 5000, signal: ac.signal });
await held?.release();
await rm(dir, { recursive: true });
