import type { LaunchOptions } from '@berth-oci/launcher';

const G_IMAGE = 'Images and registries:';

/** The image transport options of run/exec/shell and pull. */
export const IMAGE_OPTIONS = {
  platform: {
    type: 'string',
    group: G_IMAGE,
    description: "OS/ARCH[/VARIANT] to pick from a multi-platform image (default: this host's)",
  },
  authfile: {
    type: 'string',
    group: G_IMAGE,
    description:
      'registry credentials file (default: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, ~/.docker/config.json)',
  },
  'docker-username': {
    type: 'string',
    group: G_IMAGE,
    description: 'registry user name (default: $DOCKER_USERNAME)',
  },
  'docker-password': {
    type: 'string',
    group: G_IMAGE,
    description: 'registry password or token (default: $DOCKER_PASSWORD)',
  },
  'no-https': {
    alias: 'nohttps',
    type: 'boolean',
    group: G_IMAGE,
    description: 'speak plain HTTP to docker:// registries',
  },
  'disable-cache': {
    type: 'boolean',
    group: G_IMAGE,
    description: 'use no cache: fetch and unpack into a temporary directory, removed afterwards',
  },
} as const;

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(Array.isArray(v) ? v.at(-1) : v);

/** The image options of a parsed command line, for `launch()` and `pull()`. */
export function imageOptions(
  argv: Record<string, unknown>,
): Pick<
  LaunchOptions,
  'platform' | 'authFile' | 'dockerUsername' | 'dockerPassword' | 'noHttps' | 'disableCache'
> {
  const out: ReturnType<typeof imageOptions> = {
    noHttps: argv['no-https'] === true || argv.nohttps === true,
    disableCache: argv['disable-cache'] === true,
  };
  const platform = str(argv.platform);
  const authFile = str(argv.authfile);
  const user = str(argv['docker-username']);
  const password = str(argv['docker-password']);
  if (platform !== undefined) out.platform = platform;
  if (authFile !== undefined) out.authFile = authFile;
  if (user !== undefined) out.dockerUsername = user;
  if (password !== undefined) out.dockerPassword = password;
  return out;
}

/** How image references are written, for help texts. */
export const IMAGE_REFERENCE_HELP =
  'image reference: docker://[HOST/]NAME[:TAG|@DIGEST], oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE, or a path';
