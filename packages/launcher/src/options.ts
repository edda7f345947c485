import * as v from 'valibot';

const EnvPair = v.pipe(
  v.string(),
  v.regex(/^[^=\0]+=/, 'environment entries must look like NAME=value'),
);

/** Options of `launch()`: one schema, shared by the CLI and library users. */
export const LaunchOptionsSchema = v.object({
  /** Image reference: `oci:DIR[:TAG]` (more transports in @berth/image-extract). */
  image: v.pipe(v.string(), v.nonEmpty('an image reference is required')),
  /** `run` (entrypoint + args), `exec` (args[0] is the program), `shell` (an interactive shell). */
  action: v.optional(v.picklist(['run', 'exec', 'shell']), 'run'),
  /** Arguments after the image. */
  args: v.optional(v.array(v.string()), []),
  /** `--bind` values: `src[:dst[:ro|rw]]`, each possibly a comma-separated list. */
  binds: v.optional(v.array(v.string()), []),
  /** Run as uid 0 inside the container (`--fakeroot`). */
  fakeroot: v.optional(v.boolean(), false),
  /** `--env` entries, `NAME=value`, applied last (highest priority). */
  env: v.optional(v.array(EnvPair), []),
  /** Working directory inside the container (`--cwd`). */
  cwd: v.optional(v.pipe(v.string(), v.startsWith('/', 'the working directory must be absolute'))),
  /** `crun`, `runc` or a path; default `$BERTH_RUNTIME`, then crun, then runc. */
  runtime: v.optional(v.string()),
  /** Image cache directory (default `$BERTH_CACHEDIR`, `$XDG_CACHE_HOME/berth`, `~/.cache/berth`). */
  cacheDir: v.optional(v.string()),
  /** Host environment the launch reads (`BERTHENV_*`, TERM, proxies); default `process.env`. */
  hostEnv: v.optional(v.record(v.string(), v.optional(v.string()))),
  /** Allocate a terminal; default: whether stdin is a TTY. */
  terminal: v.optional(v.boolean()),
  /** Diagnostics for the user (fallbacks, skipped entries); the CLI prints them. */
  onWarning: v.optional(v.custom<(message: string) => void>((f) => typeof f === 'function')),
  /** Progress of long work (unpacking). */
  onProgress: v.optional(v.custom<(event: LaunchProgress) => void>((f) => typeof f === 'function')),
});

export type LaunchOptions = v.InferInput<typeof LaunchOptionsSchema>;
export type ResolvedLaunchOptions = v.InferOutput<typeof LaunchOptionsSchema>;

/** Progress events of a launch. */
export type LaunchProgress =
  | { phase: 'unpack-start'; image: string; layers: number }
  | { phase: 'unpack-layer'; layer: number; layers: number; digest: string }
  | { phase: 'unpack-done'; image: string; entries?: number };
