/**
 * CDI (Container Device Interface) spec files: device names, the schema of the parts berth
 * applies, and loading the spec files of the CDI directories.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HOOK_NAMES } from '@berth-oci/bundle-spec';
import * as v from 'valibot';

/** Where CDI spec files are looked for by default (later directories take precedence). */
export const DEFAULT_CDI_DIRS = ['/etc/cdi', '/var/run/cdi'];

const VENDOR = /^[A-Za-z]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
const CLASS = /^[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const DEVICE = /^[A-Za-z0-9]([A-Za-z0-9._:-]*[A-Za-z0-9])?$/;

/** Splits a fully-qualified CDI device name `vendor/class=name`; undefined when it is not one. */
export function parseCdiName(
  name: string,
): { vendor: string; class: string; name: string } | undefined {
  const m = /^([^/]+)\/([^=]+)=(.+)$/.exec(name);
  if (!m) return undefined;
  const [, vendor, cls, dev] = m as unknown as [string, string, string, string];
  if (!VENDOR.test(vendor) || !CLASS.test(cls) || !DEVICE.test(dev)) return undefined;
  return { vendor, class: cls, name: dev };
}

const Int = v.pipe(v.number(), v.integer());
export const EditsSchema = v.looseObject({
  env: v.optional(v.array(v.pipe(v.string(), v.regex(/^[^=]+=/, 'env entries are NAME=value')))),
  deviceNodes: v.optional(
    v.array(
      v.looseObject({
        path: v.pipe(v.string(), v.startsWith('/', 'a device path must be absolute')),
        hostPath: v.optional(v.string()),
        type: v.optional(v.picklist(['b', 'c', 'u', 'p', ''])),
        major: v.optional(Int),
        minor: v.optional(Int),
        fileMode: v.optional(Int),
        permissions: v.optional(v.string()),
        uid: v.optional(Int),
        gid: v.optional(Int),
      }),
    ),
  ),
  mounts: v.optional(
    v.array(
      v.looseObject({
        hostPath: v.string(),
        containerPath: v.pipe(v.string(), v.startsWith('/', 'a container path must be absolute')),
        type: v.optional(v.string()),
        options: v.optional(v.array(v.string())),
      }),
    ),
  ),
  hooks: v.optional(
    v.array(
      v.looseObject({
        hookName: v.picklist(HOOK_NAMES),
        path: v.string(),
        args: v.optional(v.array(v.string())),
        env: v.optional(v.array(v.string())),
        timeout: v.optional(Int),
      }),
    ),
  ),
  additionalGids: v.optional(v.array(Int)),
});
export type Edits = v.InferOutput<typeof EditsSchema>;

/** A CDI spec file (the parts berth applies; see the container-device-interface spec). */
export const CdiSpecSchema = v.looseObject({
  cdiVersion: v.string(),
  kind: v.pipe(
    v.string(),
    v.check((k) => {
      const [vendor, cls, extra] = k.split('/');
      return extra === undefined && VENDOR.test(vendor ?? '') && CLASS.test(cls ?? '');
    }, 'kind must be vendor/class'),
  ),
  devices: v.array(
    v.looseObject({
      name: v.pipe(v.string(), v.regex(DEVICE, 'an invalid device name')),
      containerEdits: EditsSchema,
    }),
  ),
  containerEdits: v.optional(EditsSchema),
});
export type CdiSpec = v.InferOutput<typeof CdiSpecSchema>;

export interface LoadedSpec {
  file: string;
  spec: CdiSpec;
}

/**
 * Reads the CDI spec files (`*.json`, `*.yaml`, `*.yml`) of `dirs`. Missing directories are
 * skipped; files that do not parse are returned in `errors` (a device they would define is then
 * unresolvable, as the CDI project's own cache does).
 */
export async function loadCdiSpecs(
  dirs: string[],
): Promise<{ specs: LoadedSpec[]; errors: string[] }> {
  const specs: LoadedSpec[] = [];
  const errors: string[] = [];
  let yaml: typeof import('yaml') | undefined;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const ext = path.extname(name);
      if (!['.json', '.yaml', '.yml'].includes(ext)) continue;
      const file = path.join(dir, name);
      try {
        const text = await readFile(file, 'utf8');
        let doc: unknown;
        if (ext === '.json') doc = JSON.parse(text);
        else {
          // yaml is CommonJS: bundled into the CLI its functions arrive under `default`.
          if (!yaml) {
            const mod = (await import('yaml')) as typeof import('yaml') & {
              default?: typeof import('yaml');
            };
            yaml = mod.default ?? mod;
          }
          doc = yaml.parse(text);
        }
        const result = v.safeParse(CdiSpecSchema, doc);
        if (!result.success) throw new Error(v.summarize(result.issues).split('\n')[0]);
        specs.push({ file, spec: result.output });
      } catch (e) {
        errors.push(`${file}: ${(e as Error).message}`);
      }
    }
  }
  return { specs, errors };
}
