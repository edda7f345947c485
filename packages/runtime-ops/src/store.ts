import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { RUNTIME_NAMES, type Runtime } from './find.js';
import {
  cgroupMaskPrefix,
  ensureHolder,
  findHolder,
  nsenterPrefix,
  stopHolder,
  usernsOf,
  withHolderLock,
} from './holder.js';
import {
  type CgroupLayout,
  cgroupLayout,
  ensurePrivateDir,
  needsCgroupMask,
  runtimeStateRoot,
} from './host.js';
import { isAlive, type LockOwner, lockBundle, unlockBundle } from './lock.js';
import type { RuntimeContext } from './ops.js';

/** Container ids berth accepts (as runc: no slashes, no leading dot or dash). */
export const CONTAINER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const ContainerIdSchema = v.pipe(
  v.string(),
  v.regex(CONTAINER_ID_PATTERN, 'a container id is 1-128 of A-Z a-z 0-9 _ . - (not first)'),
);

export const LOG_FORMATS = ['k8s-file', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What berth records about a container in its state directory (`container.json`). */
export const ContainerRecordSchema = v.object({
  id: ContainerIdSchema,
  /** Absolute bundle path. */
  bundle: v.pipe(v.string(), v.startsWith('/')),
  runtime: v.object({ name: v.picklist(RUNTIME_NAMES), path: v.string() }),
  /** Created by an ordinary user: every runtime call goes through the namespace holder. */
  rootless: v.boolean(),
  /** ISO time of creation. */
  created: v.string(),
  /** `user:[inode]` of the namespace the container was created in (rootless). */
  userns: v.optional(v.string()),
  /** The daemonized conmon monitoring it. */
  conmonPid: v.optional(v.number()),
  /** The container's init pid, as conmon reported it. */
  pid: v.optional(v.number()),
  terminal: v.boolean(),
  log: v.object({ path: v.string(), format: v.picklist(LOG_FORMATS) }),
  pidFile: v.optional(v.string()),
});
export type ContainerRecord = v.InferOutput<typeof ContainerRecordSchema>;

export const RECORD_FILE = 'container.json';

export interface ContainerStoreOptions {
  /** The user (default: this process's uid). */
  uid?: number;
  env?: Record<string, string | undefined>;
  /** `unshare` user-mapping args of the holder namespace (rootless), e.g. from the launcher's plan. */
  userArgs?: string[];
  /** Where the store lives (default `<runtimeStateRoot>/oci`). */
  dir?: string;
}

/**
 * berth's per-user registry of `oci` containers: `<state root>/oci` (0700; `/run/berth/oci` for
 * root, `$XDG_RUNTIME_DIR/berth/oci`, `/run/user/<uid>/berth/oci` or `$TMPDIR/berth-<uid>/oci`)
 * holding `containers/<id>/` per container — its record, conmon's files and the runtime's own
 * state root — plus the namespace holder's record and lock. Deleting a container removes its
 * directory; the holder stops with the last container.
 */
export class ContainerStore {
  readonly dir: string;
  readonly uid: number;
  readonly userArgs: string[];
  #layout: CgroupLayout | undefined;

  private constructor(dir: string, uid: number, userArgs: string[]) {
    this.dir = dir;
    this.uid = uid;
    this.userArgs = userArgs;
  }

  static async open(options: ContainerStoreOptions = {}): Promise<ContainerStore> {
    const uid = options.uid ?? process.getuid?.() ?? 0;
    const dir = options.dir ?? path.join(await runtimeStateRoot({ uid, env: options.env }), 'oci');
    await ensurePrivateDir(dir, uid);
    await ensurePrivateDir(path.join(dir, 'containers'), uid);
    return new ContainerStore(dir, uid, options.userArgs ?? ['--map-root-user']);
  }

  get rootless(): boolean {
    return this.uid !== 0;
  }

  get containersDir(): string {
    return path.join(this.dir, 'containers');
  }

  containerDir(id: string): string {
    if (!CONTAINER_ID_PATTERN.test(id)) {
      throw new RuntimeError('ERR_RUNTIME_NO_CONTAINER', `invalid container id "${id}"`, {
        hint: 'a container id is 1-128 of A-Z a-z 0-9 _ . - (not first)',
      });
    }
    return path.join(this.containersDir, id);
  }

  /** The runtime's `--root` for the container: its own, inside the container directory. */
  runtimeRoot(id: string): string {
    return path.join(this.containerDir(id), 'runtime');
  }

  /** Creates the container's directory (0700); ERR_RUNTIME_CONTAINER_EXISTS when it exists. */
  async reserve(id: string): Promise<string> {
    const dir = this.containerDir(id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new RuntimeError('ERR_RUNTIME_CONTAINER_EXISTS', `container "${id}" already exists`, {
          hint: `choose another id, or delete it first: berth oci delete ${id}`,
        });
      }
      throw e;
    }
    return dir;
  }

  async save(record: ContainerRecord): Promise<void> {
    const parsed = v.parse(ContainerRecordSchema, record);
    const file = path.join(this.containerDir(parsed.id), RECORD_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify(parsed, null, 2)}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /** The container's record; ERR_RUNTIME_NO_CONTAINER when there is no such container. */
  async load(id: string): Promise<ContainerRecord> {
    const file = path.join(this.containerDir(id), RECORD_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new RuntimeError('ERR_RUNTIME_NO_CONTAINER', `no container "${id}"`, {
        hint: 'berth oci list shows your containers',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new RuntimeError(
        'ERR_RUNTIME_STATE_DIR',
        `the record of container "${id}" is unreadable: ${file}`,
        { hint: `remove ${this.containerDir(id)} if the container is gone`, cause },
      );
    }
    const parsed = v.safeParse(ContainerRecordSchema, json);
    if (!parsed.success) {
      throw new RuntimeError(
        'ERR_RUNTIME_STATE_DIR',
        `the record of container "${id}" is invalid (${v.summarize(parsed.issues)}): ${file}`,
        { hint: `remove ${this.containerDir(id)} if the container is gone` },
      );
    }
    return parsed.output;
  }

  /** Ids of the containers with a directory (records may still be being written), sorted. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.containersDir).catch(() => [] as string[]);
    return names.filter((n) => CONTAINER_ID_PATTERN.test(n)).sort();
  }

  /** Removes the container's directory (all of berth's state for it). */
  async remove(id: string): Promise<void> {
    await rm(this.containerDir(id), { recursive: true, force: true });
  }

  /** Locks `bundle` for `id`; a lock naming a container of this user that no longer exists is stale. */
  async lockBundle(bundle: string, id: string): Promise<void> {
    await lockBundle(bundle, id, async (owner: LockOwner) => {
      if (owner.uid !== this.uid || owner.id === undefined || owner.id === id) return false;
      if (!CONTAINER_ID_PATTERN.test(owner.id)) return false;
      return !(await this.ids()).includes(owner.id);
    });
  }

  unlockBundle(bundle: string, id: string): Promise<void> {
    return unlockBundle(bundle, id);
  }

  async #maskFor(runtime: Runtime): Promise<boolean> {
    this.#layout ??= await cgroupLayout();
    return needsCgroupMask(runtime, this.#layout);
  }

  /**
   * Reserves `id` and, for an ordinary user, makes sure the namespace holder runs — both under
   * the holder lock, so that a concurrent delete of the last container cannot stop the holder
   * in between. Returns the holder's namespace (rootless).
   */
  async reserveWithHolder(id: string): Promise<{ dir: string; userns?: string; prefix: string[] }> {
    return withHolderLock(this.dir, async () => {
      const dir = await this.reserve(id);
      if (!this.rootless) return { dir, prefix: [] };
      try {
        const holder = await ensureHolder(this.dir, {
          userArgs: this.userArgs,
          maskCgroup: (await cgroupLayout()) === 'hybrid',
        });
        return { dir, userns: holder.userns, prefix: nsenterPrefix(holder.pid) };
      } catch (e) {
        await this.remove(id);
        throw e;
      }
    });
  }

  /** Stops the namespace holder when no container is left. */
  async releaseHolderIfIdle(): Promise<void> {
    if (!this.rootless) return;
    await withHolderLock(this.dir, async () => {
      if ((await this.ids()).length === 0) await stopHolder(this.dir);
    });
  }

  /**
   * How to call the runtime for a new container of `runtime`: root crun on a hybrid host goes
   * through a cgroup-mask namespace; rootless calls join the holder (`prefix` from
   * `reserveWithHolder`).
   */
  async contextForNew(
    runtime: Runtime,
    holderPrefix: string[],
    id: string,
  ): Promise<RuntimeContext> {
    const prefix = this.rootless
      ? holderPrefix
      : (await this.#maskFor(runtime))
        ? cgroupMaskPrefix()
        : [];
    return { runtime, root: this.runtimeRoot(id), rootless: this.rootless, prefix };
  }

  /**
   * How to call the runtime for an existing container. Rootless: the holder when it is the
   * namespace the container was made in; else conmon's namespaces while conmon lives (the
   * holder was restarted); else a fresh holder (the container's processes are gone anyway).
   */
  async contextFor(record: ContainerRecord): Promise<RuntimeContext> {
    const root = this.runtimeRoot(record.id);
    const runtime = record.runtime as Runtime;
    if (!record.rootless) {
      const prefix = (await this.#maskFor(runtime)) ? cgroupMaskPrefix() : [];
      return { runtime, root, rootless: false, prefix };
    }
    const holder = await findHolder(this.dir);
    if (holder && holder.userns === record.userns) {
      return { runtime, root, rootless: true, prefix: nsenterPrefix(holder.pid) };
    }
    if (
      record.conmonPid !== undefined &&
      isAlive(record.conmonPid) &&
      (await usernsOf(record.conmonPid)) === record.userns
    ) {
      return { runtime, root, rootless: true, prefix: nsenterPrefix(record.conmonPid) };
    }
    const fresh = await withHolderLock(this.dir, async () =>
      ensureHolder(this.dir, {
        userArgs: this.userArgs,
        maskCgroup: (await cgroupLayout()) === 'hybrid',
      }),
    );
    return { runtime, root, rootless: true, prefix: nsenterPrefix(fresh.pid) };
  }
}
