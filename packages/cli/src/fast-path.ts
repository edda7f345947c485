/**
 * The fast path of `berth run|exec|shell`: a plain parse of the flags straight from the option
 * table (`ACTION_FLAGS`), so that the common launch loads neither yargs nor the other commands
 * (yargs alone costs ~70 ms of start-up here). Anything it is unsure about — help, version, an
 * unknown option, a missing value, a bad number, a value given to a boolean flag — goes to the
 * full parser in main.ts, which gives the proper message.
 */
import { type ActionArgs, runAction } from './commands/action.js';
import { actionFlag } from './options/flags.js';
import { BERTH_FAILURE, defaultIo, type Io, renderError } from './render.js';

const ACTIONS = ['run', 'exec', 'shell'] as const;
type Action = (typeof ACTIONS)[number];

const DEBUG = { flag: 'debug', kind: 'boolean' } as const;

/** Parses `ACTION [options] IMAGE [ARGS...]`, or returns undefined to defer to yargs. */
export function parseActionArgv(argv: string[]): { action: Action; args: ActionArgs } | undefined {
  const action = argv[0] as Action;
  if (!ACTIONS.includes(action)) return undefined;
  const out: Record<string, unknown> = {};
  const set = (name: string, value: unknown) => {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return undefined;
    if (!a.startsWith('-') || a === '-') {
      if (action === 'shell' && i + 1 < argv.length) return undefined; // let yargs judge extra args
      return {
        action,
        args: { ...out, image: a, args: [], '--': argv.slice(i + 1) } as ActionArgs,
      };
    }
    const eq = a.indexOf('=');
    const flag = eq > 0 && a.startsWith('--') ? a.slice(0, eq) : a;
    const def = flag === '--debug' ? DEBUG : actionFlag(flag);
    if (!def) return undefined;
    if (def.kind === 'boolean') {
      if (eq > 0 && a.startsWith('--')) return undefined;
      out[def.flag] = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0 && a.startsWith('--')) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) return undefined;
    if (def.kind === 'number') {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) return undefined;
      set(def.flag, n);
    } else set(def.flag, value);
  }
  return undefined;
}

/**
 * Runs run/exec/shell when the fast parse succeeds; undefined means "use the full CLI".
 */
export async function fastMain(argv: string[], io: Io = defaultIo()): Promise<number | undefined> {
  const parsed = parseActionArgv(argv);
  if (!parsed) return undefined;
  try {
    return await runAction(parsed.action, parsed.args, io);
  } catch (e) {
    renderError(io, e, parsed.args.debug === true);
    return BERTH_FAILURE;
  }
}
