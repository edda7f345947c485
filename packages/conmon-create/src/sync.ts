import * as v from 'valibot';
import { ConmonError } from './errors.js';

const SyncMessageSchema = v.looseObject({
  data: v.optional(v.number()),
  pid: v.optional(v.number()),
  message: v.optional(v.string()),
});

/** A message conmon writes on its sync fd: a pid (> 0), or a failure with the runtime's message. */
export type SyncMessage = { ok: true; pid: number } | { ok: false; message: string };

/**
 * Parses one line from conmon's sync fd (`{"data": PID}` or `{"data": -1, "message": "..."}`;
 * the key is `pid` without --api-version).
 */
export function parseSyncMessage(line: string): SyncMessage {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (cause) {
    throw new ConmonError(
      'ERR_CONMON_SYNC',
      `conmon sent an unreadable sync message: ${JSON.stringify(line.slice(0, 200))}`,
      { cause },
    );
  }
  const parsed = v.safeParse(SyncMessageSchema, json);
  const value = parsed.success ? (parsed.output.data ?? parsed.output.pid) : undefined;
  if (value === undefined) {
    throw new ConmonError(
      'ERR_CONMON_SYNC',
      `conmon sent a sync message without data: ${JSON.stringify(line.slice(0, 200))}`,
    );
  }
  if (value > 0) return { ok: true, pid: value };
  const message = parsed.success ? (parsed.output.message ?? '').trim() : '';
  return {
    ok: false,
    message: message || 'container creation failed (the runtime gave no message)',
  };
}
