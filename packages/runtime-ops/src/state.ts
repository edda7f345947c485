import * as v from 'valibot';
import { RuntimeError } from './errors.js';

/** Every status runc and crun report; `paused` is theirs, the OCI state schema has the other four. */
export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

/**
 * The runtime's `state` JSON (runc and crun; docs/runtime-protocols.md, "The runtime state
 * JSON"). Loose: runc adds `rootfs`, `created` and `owner`, crun also `systemd-scope`.
 */
export const ContainerStateSchema = v.looseObject({
  ociVersion: v.string(),
  id: v.pipe(v.string(), v.nonEmpty()),
  status: v.picklist(CONTAINER_STATUSES),
  /** 0 once stopped. */
  pid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  bundle: v.string(),
  rootfs: v.optional(v.string()),
  created: v.optional(v.string()),
  owner: v.optional(v.string()),
  annotations: v.optional(v.record(v.string(), v.string())),
});
export type ContainerState = v.InferOutput<typeof ContainerStateSchema>;

/** Parses the output of `runtime state ID`; throws ERR_RUNTIME_STATE_JSON when it is not a state. */
export function parseState(text: string, id?: string): ContainerState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new RuntimeError(
      'ERR_RUNTIME_STATE_JSON',
      `the runtime printed no JSON state${id ? ` for container "${id}"` : ''}: ${JSON.stringify(text.slice(0, 200))}`,
      { cause },
    );
  }
  const parsed = v.safeParse(ContainerStateSchema, json);
  if (!parsed.success) {
    throw new RuntimeError(
      'ERR_RUNTIME_STATE_JSON',
      `the runtime printed an invalid state${id ? ` for container "${id}"` : ''}: ${v.summarize(parsed.issues)}`,
    );
  }
  return parsed.output;
}

/**
 * A state as berth prints it, in the OCI runtime-spec shape. `status` is the runtime's own:
 * besides the four the specification names, `paused` (the specification lets a runtime define
 * further states; runc, crun and SingularityCE report it).
 */
export interface OciState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
  /** Extensions (the schema allows them): */
  rootfs?: string;
  created?: string;
  runtime?: string;
}

/**
 * The state as berth prints it: the runtime's status (`paused` included), `rootfs` and
 * `created` kept, `owner` dropped.
 */
export function toOciState(state: ContainerState, extra: { runtime?: string } = {}): OciState {
  const out: OciState = {
    ociVersion: state.ociVersion,
    id: state.id,
    status: state.status,
    pid: state.pid,
    bundle: state.bundle,
  };
  if (state.rootfs !== undefined) out.rootfs = state.rootfs;
  if (state.created !== undefined) out.created = state.created;
  if (state.annotations !== undefined && Object.keys(state.annotations).length > 0)
    out.annotations = { ...state.annotations };
  if (extra.runtime !== undefined) out.runtime = extra.runtime;
  return out;
}

/**
 * The message in a runtime's stderr: runc without `--log` writes logrus text
 * (`time="…" level=error msg="…"`), crun and runc with `--log` plain lines. Returns the last
 * error message, unquoted, or the last non-empty line.
 */
export function runtimeErrorMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string;
    const m = /level=(error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) {
      try {
        return JSON.parse(`"${m[2]}"`) as string;
      } catch {
        return m[2] as string;
      }
    }
  }
  const plain = lines.filter((l) => !/^time="[^"]*" level=(warning|info|debug)/.test(l));
  return plain.at(-1) ?? lines.at(-1) ?? '';
}
