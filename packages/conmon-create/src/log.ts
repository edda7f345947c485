import { readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { ConmonError } from './errors.js';

const RuntimeLogLineSchema = v.looseObject({
  level: v.optional(v.string()),
  msg: v.optional(v.string()),
});

/**
 * The runtime's error from its `--log-format=json` log (runc `{"level":"error","msg":…}`, crun
 * `{"msg":…,"level":"error"}`): the last error or fatal message, or undefined.
 */
export function parseRuntimeLog(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    let json: unknown;
    try {
      json = JSON.parse(lines[i] as string);
    } catch {
      continue;
    }
    const parsed = v.safeParse(RuntimeLogLineSchema, json);
    if (!parsed.success) continue;
    const { level, msg } = parsed.output;
    if (msg && (level === undefined || level === 'error' || level === 'fatal')) return msg.trim();
  }
  return undefined;
}

/** One line of conmon's k8s-file log. */
export interface K8sLogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** `F` a full line, `P` a partial one (no newline in the output). */
  tag: 'F' | 'P';
  content: string;
}

/** Parses `<time> <stdout|stderr> <F|P> <content>`; undefined for anything else. */
export function parseK8sLogLine(line: string): K8sLogLine | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) {
    const empty = /^(\S+) (stdout|stderr) ([FP])$/.exec(line);
    if (!empty) return undefined;
    return {
      time: empty[1] as string,
      stream: empty[2] as 'stdout' | 'stderr',
      tag: empty[3] as 'F' | 'P',
      content: '',
    };
  }
  return {
    time: m[1] as string,
    stream: m[2] as 'stdout' | 'stderr',
    tag: m[3] as 'F' | 'P',
    content: m[4] as string,
  };
}

/**
 * A k8s-file log as JSON lines, one object per log line, in docker's json-file shape:
 * `{"log":"text\n","stream":"stdout","time":"…"}` (a partial line has no trailing newline).
 */
export function k8sLogToJsonLines(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parsed = parseK8sLogLine(line);
    if (!parsed) continue;
    const log = parsed.tag === 'F' ? `${parsed.content}\n` : parsed.content;
    out += `${JSON.stringify({ log, stream: parsed.stream, time: parsed.time })}\n`;
  }
  return out;
}

/** Converts the k8s-file log `from` into JSON lines at `to` (written whole, then renamed). */
export async function convertLogFile(from: string, to: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(from, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') text = '';
    else
      throw new ConmonError('ERR_CONMON_LOG', `cannot read the container log "${from}"`, {
        cause: e,
      });
  }
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, k8sLogToJsonLines(text), { mode: 0o600 });
    await rename(tmp, to);
  } catch (e) {
    throw new ConmonError(
      'ERR_CONMON_LOG',
      `cannot write the container log "${to}": ${(e as Error).message}`,
      { hint: 'check that its directory exists and is writable', cause: e },
    );
  }
}

/** The script conmon runs after the container exits to write a JSON log (`node SCRIPT FROM TO`). */
export const LOG_CONVERTER_PATH = fileURLToPath(new URL('./log-convert.js', import.meta.url));

/** The exit command that converts the k8s-file log `from` to JSON lines at `to`. */
export function logConverterCommand(from: string, to: string): string[] {
  return [process.execPath, LOG_CONVERTER_PATH, from, to];
}
