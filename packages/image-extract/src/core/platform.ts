import * as os from 'node:os';
import * as v from 'valibot';
import { ImageError } from '../errors.js';
import type { Platform } from './schemas.js';

/** The platform to select from an image index. */
export const PlatformChoiceSchema = v.strictObject({
  os: v.pipe(v.string(), v.minLength(1)),
  architecture: v.pipe(v.string(), v.minLength(1)),
  variant: v.optional(v.pipe(v.string(), v.minLength(1))),
});
export type PlatformChoice = v.InferOutput<typeof PlatformChoiceSchema>;

const ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips64el: 'mips64le',
  mipsel: 'mipsle',
};

/** The OCI name of a Node `process.arch` (x64 → amd64, arm64 → arm64, ia32 → 386, ...). */
function ociArchitecture(nodeArch: string = process.arch): string {
  if (nodeArch === 'ppc64') return os.endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  return ARCH[nodeArch] ?? nodeArch;
}

/** This host's platform: linux + the OCI architecture (+ the ARM variant on 32-bit ARM). */
export function hostPlatform(): PlatformChoice {
  const architecture = ociArchitecture();
  const out: PlatformChoice = { os: 'linux', architecture };
  if (architecture === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    if (typeof armVersion === 'string' || typeof armVersion === 'number')
      out.variant = `v${armVersion}`;
  }
  return out;
}

function normalVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant !== undefined) return variant;
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return undefined;
}

/** True when `have` (a descriptor's platform) satisfies `want`; a wanted variant must match. */
export function platformMatches(have: Platform | undefined, want: PlatformChoice): boolean {
  if (have === undefined || have.os !== want.os || have.architecture !== want.architecture)
    return false;
  if (want.variant === undefined) return true;
  return (
    normalVariant(have.architecture, have.variant) ===
    normalVariant(want.architecture, want.variant)
  );
}

/** `os/architecture[/variant]`. */
export function formatPlatform(p: {
  os: string;
  architecture: string;
  variant?: string | undefined;
}): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * Parses `os/arch[/variant]` (`linux/arm64`, `linux/arm/v7`); `arch` alone means linux/arch.
 * Throws ERR_IMAGE_PLATFORM for anything else.
 */
export function parsePlatform(value: string): PlatformChoice {
  const parts = value.split('/');
  const ok = (s: string | undefined) => s !== undefined && /^[a-z0-9._-]+$/i.test(s);
  if (parts.length === 1 && ok(parts[0])) return { os: 'linux', architecture: parts[0] as string };
  if ((parts.length === 2 || parts.length === 3) && parts.every(ok)) {
    const out: PlatformChoice = { os: parts[0] as string, architecture: parts[1] as string };
    if (parts[2] !== undefined) out.variant = parts[2];
    return out;
  }
  throw new ImageError('ERR_IMAGE_PLATFORM', `invalid platform ${JSON.stringify(value)}`, {
    hint: 'write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7',
  });
}
