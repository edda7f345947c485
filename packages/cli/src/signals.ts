/**
 * The process-wide signal handling of run/exec/shell, which the launcher leaves to its caller:
 * SIGINT, SIGTERM or SIGHUP during the preparation abort the launch (berth exits 128+signal,
 * having removed what it made); once the container runs, the signals berth receives are
 * passed on to it, and its bundle is removed should berth exit before it does. SIGINT, SIGTERM
 * and SIGHUP then stop it (`stop()`): a container still running 5 s later (STOP_GRACE_MS: a
 * PID 1 that ignores the signal, as `sleep` does) is killed with SIGKILL, its runtime state
 * removed, and berth exits 128+signal, so `timeout` and batch schedulers leave nothing behind.
 */
import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import { type ExitStatus, LaunchError, type LaunchOptions, start } from '@berth-oci/launcher';
import { FORWARDED_SIGNALS } from '@berth-oci/runtime-ops';

const ABORTING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** `launch()` with berth's signal handling: the container's exit status, or 128+signal. */
export async function launchWithSignals(options: LaunchOptions): Promise<ExitStatus> {
  const abort = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    caught ??= signal;
    abort.abort(signal);
  };
  for (const s of ABORTING_SIGNALS) process.on(s, onSignal);
  let running: Awaited<ReturnType<typeof start>>;
  try {
    running = await start({ ...options, signal: abort.signal });
  } catch (e) {
    if (caught && LaunchError.isInstance(e) && e.code === 'ERR_LAUNCH_INTERRUPTED')
      return { exitCode: 128 + (constants.signals[caught] ?? 0), signal: caught };
    throw e;
  } finally {
    for (const s of ABORTING_SIGNALS) process.off(s, onSignal);
  }
  const { bundle } = running;
  const forward = (signal: NodeJS.Signals) => {
    if (ABORTING_SIGNALS.includes(signal)) running.stop(signal);
    else running.kill(signal);
  };
  const removeBundle = () => rmSync(bundle, { recursive: true, force: true });
  for (const s of FORWARDED_SIGNALS) process.on(s, forward);
  process.on('exit', removeBundle);
  try {
    return await running.exited;
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    process.off('exit', removeBundle);
  }
}
