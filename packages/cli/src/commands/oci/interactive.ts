import { readFile } from 'node:fs/promises';
import { attach, DEFAULT_DETACH_KEYS } from '@berth-oci/attach';
import { conmonFiles, parseK8sLogLine, waitForOciExit } from '@berth-oci/conmon-create';
import { execInContainer, killContainer, startContainer } from '@berth-oci/runtime-ops';
import type { Io } from '../../render.js';
import {
  type CreateArgs,
  createOciContainer,
  deleteOciContainer,
  loadContainer,
  requireStatus,
} from './common.js';

/** Signals `oci run` passes on to the container (in a raw terminal, ctrl-c is a byte instead). */
const RUN_SIGNALS: NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
];

/**
 * `oci attach ID`: the container's output here, our input there, raw terminal and resizes; the
 * container's exit status when it ends, 0 after the detach keys (it keeps running).
 */
export async function ociAttach(io: Io, a: { id: string; detachKeys?: string }): Promise<number> {
  const loaded = await loadContainer(io, a.id);
  await requireStatus(loaded, ['created', 'running', 'paused'], 'attach to');
  const { record } = loaded;
  const result = await attach({
    bundle: record.bundle,
    stdin: process.stdin,
    stdout: io.stdout as NodeJS.WritableStream & { isTTY?: boolean } as never,
    stderr: io.stderr as never,
    tty: record.terminal,
    detachKeys: a.detachKeys ?? DEFAULT_DETACH_KEYS,
  });
  if (result.detached) return 0;
  const status = await waitForOciExit(loaded);
  return status === undefined || status < 0 ? 0 : status;
}

/** Output relayed so far, per stream, so that a reset attach can be completed from the log. */
interface Relay {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  sent: { stdout: number; stderr: number };
}

function counting(io: Io): Relay {
  const sent = { stdout: 0, stderr: 0 };
  const wrap = (name: 'stdout' | 'stderr') => {
    const target = io[name] as NodeJS.WritableStream;
    return new Proxy(target, {
      get(t, key, receiver) {
        if (key === 'write')
          return (chunk: Buffer | string, ...rest: unknown[]) => {
            sent[name] += Buffer.byteLength(chunk);
            return (t.write as (...a: unknown[]) => boolean).call(t, chunk, ...rest);
          };
        const value = Reflect.get(t, key, receiver);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  };
  return { stdout: wrap('stdout'), stderr: wrap('stderr'), sent };
}

/**
 * After an attach made before the start (so it saw the output from its first byte) that ended
 * with a reset (AttachResult.reset), once the container has exited: writes the output conmon
 * logged that did not arrive, from its k8s-file log (read byte for byte).
 */
async function completeFromLog(
  relay: Relay,
  container: Awaited<ReturnType<typeof loadContainer>>,
): Promise<void> {
  const { record, store } = container;
  const file =
    record.log.format === 'k8s-file'
      ? record.log.path
      : conmonFiles(store.containerDir(record.id), record.id).log;
  const text = await readFile(file, 'latin1').catch(() => '');
  const logged = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const line of text.split('\n')) {
    const l = parseK8sLogLine(line);
    if (l)
      logged[l.stream].push(Buffer.from(l.tag === 'F' ? `${l.content}\n` : l.content, 'latin1'));
  }
  for (const name of ['stdout', 'stderr'] as const) {
    const all = Buffer.concat(logged[name]);
    if (all.length > relay.sent[name]) relay[name].write(all.subarray(relay.sent[name]));
  }
}

/**
 * `oci run -b BUNDLE ID`: create under conmon, attach, start, and when the container ends,
 * delete it and return its exit status. After the detach keys it keeps running (exit 0), to be
 * deleted with `oci delete`.
 */
export async function ociRun(io: Io, a: CreateArgs & { detachKeys?: string }): Promise<number> {
  const container = await createOciContainer(io, a);
  const { record, ctx, conmon } = container;
  const forward = (signal: NodeJS.Signals) => {
    void killContainer(ctx, record.id, signal).catch(() => {});
  };
  let result: { detached: boolean; reset?: boolean };
  const relay = counting(io);
  try {
    for (const s of RUN_SIGNALS) process.on(s, forward);
    result = await attach({
      bundle: record.bundle,
      stdin: process.stdin,
      stdout: relay.stdout as never,
      stderr: relay.stderr as never,
      tty: record.terminal,
      detachKeys: a.detachKeys ?? DEFAULT_DETACH_KEYS,
      onAttached: () => startContainer(ctx, record.id),
    });
  } catch (e) {
    conmon.release();
    await deleteOciContainer(container, { force: true }).catch(() => {});
    throw e;
  } finally {
    for (const s of RUN_SIGNALS) process.off(s, forward);
  }
  if (result.detached) {
    conmon.release();
    return 0;
  }
  const status = await conmon.wait();
  conmon.release();
  if (result.reset && !record.terminal) await completeFromLog(relay, container);
  await deleteOciContainer(container, { force: true });
  return status === undefined || status < 0 ? 255 : status;
}

/** `oci exec ID COMMAND...`: the command's exit status. */
export async function ociExec(
  io: Io,
  a: { id: string; command: string[]; tty?: boolean },
): Promise<number> {
  const loaded = await loadContainer(io, a.id);
  await requireStatus(loaded, ['created', 'running'], 'exec in');
  const status = await execInContainer(loaded.ctx, a.id, a.command, { tty: a.tty });
  return status.exitCode;
}
