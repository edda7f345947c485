import * as v from 'valibot';
import { ImageError, q } from '../errors.js';
import { type ImageConfig, ImageConfigSchema } from './schemas.js';

/** What an image config asks of a container, with empty values normalised. */
export interface ImageDefaults {
  entrypoint: string[];
  cmd: string[];
  /** `NAME=value` entries, verbatim and in order. */
  env: string[];
  workingDir?: string;
  /** `Config.User` verbatim (`name`, `uid`, `uid:gid`, ...); resolving it is the launcher's job. */
  user?: string;
  labels: Record<string, string>;
}

/**
 * The process defaults of an image config: Entrypoint, Cmd, Env, WorkingDir, User and Labels.
 * Env entries without `=` (or with an empty name) throw ERR_IMAGE_CONFIG_ENV.
 */
export function imageDefaults(config: ImageConfig): ImageDefaults {
  const result = v.safeParse(ImageConfigSchema, config);
  if (!result.success) {
    throw new ImageError(
      'ERR_IMAGE_CONFIG_INVALID',
      `invalid image config: ${v.summarize(result.issues)}`,
      {
        hint: 'pass the config of a resolved image (resolveImage(...).config)',
      },
    );
  }
  const c = result.output.config ?? {};
  const env = [...(c.Env ?? [])];
  for (const entry of env) {
    if (entry.indexOf('=') <= 0) {
      throw new ImageError(
        'ERR_IMAGE_CONFIG_ENV',
        `image config Env entry ${q(entry)} is not NAME=VALUE`,
        {
          hint: 'the image config is malformed; fix Env in the image (environment variables must contain "=")',
        },
      );
    }
  }
  const out: ImageDefaults = {
    entrypoint: [...(c.Entrypoint ?? [])],
    cmd: [...(c.Cmd ?? [])],
    env,
    labels: { ...(c.Labels ?? {}) },
  };
  if (c.WorkingDir) out.workingDir = c.WorkingDir;
  if (c.User) out.user = c.User;
  return out;
}
