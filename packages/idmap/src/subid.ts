import { readFile } from 'node:fs/promises';
import { parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';
import { IdmapError } from './errors.js';
import {
  MAX_ID,
  type SubidEntry,
  type SubidRange,
  type SubidUser,
  SubidUserSchema,
} from './types.js';

/** The range size upstream (and `useradd`) hands out, and the least berth accepts. */
export const SUBID_RANGE_SIZE = 65536;

const DEFAULT_FILE = 'subid file';
const DECIMAL = /^[0-9]+$/;

/**
 * Parses /etc/subuid or /etc/subgid text: `name_or_uid:start:count` per line. Blank lines
 * and `#` comments are skipped, CRLF is tolerated and a leading `!` marks a disabled entry.
 * A malformed line throws `ERR_IDMAP_PARSE` naming `file` and the line: the whole file is
 * refused rather than guessed at.
 */
export function parseSubid(text: string, file: string = DEFAULT_FILE): SubidEntry[] {
  const entries: SubidEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).replace(/\r$/, '');
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const lineNo = i + 1;
    const bad = (why: string): IdmapError =>
      new IdmapError(
        'ERR_IDMAP_PARSE',
        `malformed entry in ${file} at line ${lineNo}: ${JSON.stringify(raw)}: ${why}`,
        { hint: `fix line ${lineNo} of ${file}; each line is name_or_uid:start:count` },
      );
    const fields = line.split(':');
    if (fields.length !== 3)
      throw bad(`expected 3 fields separated by ":", found ${fields.length}`);
    let [owner, startText, countText] = fields as [string, string, string];
    const disabled = owner.startsWith('!');
    if (disabled) owner = owner.slice(1);
    if (owner === '') throw bad('the owner is empty');
    if (/\s/.test(owner)) throw bad('the owner contains white space');
    if (!DECIMAL.test(startText)) throw bad(`the start "${startText}" is not a decimal number`);
    if (!DECIMAL.test(countText)) throw bad(`the count "${countText}" is not a decimal number`);
    const start = Number(startText);
    const count = Number(countText);
    if (start > MAX_ID) throw bad(`the start ${startText} is larger than ${MAX_ID}`);
    if (start + count > MAX_ID + 1) throw bad(`the range ends past ${MAX_ID}`);
    entries.push({ owner, start, count, disabled, line: lineNo });
  }
  return entries;
}

function ownedBy(entry: SubidEntry, user: SubidUser): boolean {
  if (entry.owner === user.name) return true;
  return DECIMAL.test(entry.owner) && Number(entry.owner) === user.uid;
}

function addHint(user: string): string {
  return `an administrator can add one: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`;
}

/**
 * Chooses the user's range as SingularityCE does (docs/launch.md, "The outer user
 * namespace"): among the user's enabled
 * entries (matched by name or decimal uid), the first with exactly 65536 ids, else the
 * largest with more. Throws `ERR_IDMAP_NO_ENTRY`, `ERR_IDMAP_DISABLED` or
 * `ERR_IDMAP_RANGE_TOO_SMALL`.
 */
export function selectSubidRange(
  entries: SubidEntry[],
  user: { name: string; uid: number },
  file: string = DEFAULT_FILE,
): SubidRange {
  const who = parseOptions(SubidUserSchema, user, 'subid user', IdmapError);
  const mine = entries.filter((e) => ownedBy(e, who));
  const enabled = mine.filter((e) => !e.disabled);
  const exact = enabled.find((e) => e.count === SUBID_RANGE_SIZE);
  if (exact) return { start: exact.start, count: exact.count };
  let best: SubidEntry | undefined;
  for (const e of enabled) {
    if (e.count > SUBID_RANGE_SIZE && (!best || e.count > best.count)) best = e;
  }
  if (best) return { start: best.start, count: best.count };

  const label = who.name || String(who.uid);
  const disabledUsable = mine.some((e) => e.disabled && e.count >= SUBID_RANGE_SIZE);
  if (disabledUsable || (mine.length > 0 && enabled.length === 0)) {
    throw new IdmapError(
      'ERR_IDMAP_DISABLED',
      `the id mapping for ${label} in ${file} has been disabled by the administrator`,
      { hint: `ask an administrator to re-enable it (remove the leading "!" in ${file})` },
    );
  }
  if (enabled.length > 0) {
    throw new IdmapError(
      'ERR_IDMAP_RANGE_TOO_SMALL',
      `mapping entries for user ${label} found in ${file} but all with a range count lower than ${SUBID_RANGE_SIZE}`,
      { hint: `ask an administrator for a range of at least ${SUBID_RANGE_SIZE} ids in ${file}` },
    );
  }
  throw new IdmapError('ERR_IDMAP_NO_ENTRY', `no mapping entry found in ${file} for ${label}`, {
    hint: addHint(label),
  });
}

export const ReadSubidRangeOptionsSchema = v.strictObject({
  /** Read this file instead of /etc/subuid or /etc/subgid. */
  file: v.optional(v.pipe(v.string(), v.minLength(1))),
});
export type ReadSubidRangeOptions = v.InferInput<typeof ReadSubidRangeOptionsSchema>;

/**
 * Reads /etc/subuid (`kind` 'uid') or /etc/subgid ('gid') and chooses the user's range with
 * `selectSubidRange`. As upstream, gid ranges are looked up by the *user* name or uid. A
 * missing file is `ERR_IDMAP_NO_ENTRY`; an unreadable one `ERR_IDMAP_READ`.
 */
export async function readSubidRange(
  kind: 'uid' | 'gid',
  user: { name: string; uid: number },
  options: ReadSubidRangeOptions = {},
): Promise<SubidRange> {
  const which = parseOptions(v.picklist(['uid', 'gid']), kind, 'subid kind', IdmapError);
  const opts = parseOptions(
    ReadSubidRangeOptionsSchema,
    options,
    'readSubidRange options',
    IdmapError,
  );
  const who = parseOptions(SubidUserSchema, user, 'subid user', IdmapError);
  const file = opts.file ?? (which === 'uid' ? '/etc/subuid' : '/etc/subgid');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const label = who.name || String(who.uid);
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IdmapError(
        'ERR_IDMAP_NO_ENTRY',
        `no mapping entry found in ${file} for ${label}: the file does not exist`,
        { hint: addHint(label), cause },
      );
    }
    throw new IdmapError('ERR_IDMAP_READ', `cannot read ${file}`, {
      hint: `check that ${file} is readable`,
      cause,
    });
  }
  return selectSubidRange(parseSubid(text, file), who, file);
}
