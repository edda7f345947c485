/**
 * The command tree of berth — commands, subcommands, positionals, flags, examples — read from
 * the yargs command modules themselves: each builder runs against a recorder that notes what it
 * declares. Completion scripts and man pages are generated from this tree, so they follow the
 * option table and the commands without a second list to keep in step.
 */
import type { CommandModule, Options, PositionalOptions } from 'yargs';

export interface FlagNode {
  /** The long name, without `--`. */
  name: string;
  /** Other spellings without dashes: one letter (`B`) or long (`pwd`). */
  aliases: string[];
  /** Whether the flag takes a value (`--bind SRC`) or stands alone (`--fakeroot`). */
  takesValue: boolean;
  description: string;
  hidden: boolean;
  group?: string;
  /** The values it accepts, where they are a fixed set. */
  choices?: string[];
  default?: string;
}

export interface PositionalNode {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  choices?: string[];
}

export interface CommandNode {
  name: string;
  aliases: string[];
  description: string;
  /** The usage line yargs shows (`berth exec [options] IMAGE COMMAND [ARGS...]`), if set. */
  usage?: string;
  positionals: PositionalNode[];
  flags: FlagNode[];
  commands: CommandNode[];
  examples: [command: string, description: string][];
  epilog?: string;
}

/**
 * Values of flags that are a fixed set although the flag takes any string (a runtime may also be
 * a path; the table describes them in words). Completion offers these.
 */
export const FLAG_VALUES: Readonly<Record<string, readonly string[]>> = {
  runtime: ['crun', 'runc'],
  network: ['none'],
  'no-mount': ['proc', 'sys', 'tmp', 'home', 'cwd', 'bind-paths', '/etc/resolv.conf'],
  'log-format': ['k8s-file', 'kubernetes', 'json'],
};

/** Values of positionals that are a fixed set, by name (checked by the command's handler). */
export const POSITIONAL_VALUES: Readonly<Record<string, readonly string[]>> = {
  shell: ['bash', 'zsh', 'fish'],
};

const flagNode = (name: string, o: Options): FlagNode => {
  const alias = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
  const choices = o.choices !== undefined ? o.choices.map(String) : FLAG_VALUES[name];
  return {
    name,
    aliases: alias.map(String),
    takesValue: o.type !== 'boolean' && o.boolean !== true && o.count !== true,
    description: String(o.description ?? o.describe ?? o.desc ?? ''),
    hidden: o.hidden === true,
    ...(o.group !== undefined && { group: o.group }),
    ...(choices !== undefined && { choices: [...choices] }),
    ...(o.default !== undefined && { default: String(o.default) }),
  };
};

/** `kill <id> [sig]` → the name and the positionals. */
function parseCommandString(command: string): { name: string; positionals: PositionalNode[] } {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  const positionals = rest.map((p) => {
    const m = /^[<[]([^.\]>]+)(\.\.)?[\]>]$/.exec(p);
    return {
      name: m?.[1] ?? p,
      description: '',
      required: p.startsWith('<'),
      variadic: m?.[2] !== undefined,
    };
  });
  return { name, positionals };
}

/** Runs a builder against a recorder and fills `node` from what it declares. */
function record(node: CommandNode, builder: CommandModule['builder']): void {
  if (builder === undefined) return;
  if (typeof builder !== 'function') {
    for (const [k, o] of Object.entries(builder)) node.flags.push(flagNode(k, o as Options));
    return;
  }
  const setFlag = (name: string, o: Options) => {
    const f = flagNode(name, o);
    const i = node.flags.findIndex((x) => x.name === name);
    if (i >= 0) node.flags[i] = f;
    else node.flags.push(f);
  };
  const handlers: Record<string, (...args: unknown[]) => void> = {
    options: (o) => {
      if (typeof o === 'object' && o !== null) {
        for (const [k, x] of Object.entries(o)) setFlag(k, x as Options);
      }
    },
    option: (k, o) => {
      if (typeof k === 'string') setFlag(k, (o ?? {}) as Options);
      else handlers.options?.(k);
    },
    positional: (k, o) => {
      const p = node.positionals.find((x) => x.name === k);
      const opts = (o ?? {}) as PositionalOptions;
      if (p) {
        p.description = String(opts.description ?? opts.describe ?? opts.desc ?? '');
        const choices = opts.choices?.map(String) ?? POSITIONAL_VALUES[p.name];
        if (choices !== undefined) p.choices = [...choices];
      }
    },
    command: (c) => {
      if (typeof c === 'object' && c !== null) node.commands.push(commandNode(c as CommandModule));
    },
    example: (cmd, desc) => {
      const list = Array.isArray(cmd) ? (cmd as [string, string][]) : [[cmd, desc]];
      for (const [c, d] of list) node.examples.push([String(c), String(d ?? '')]);
    },
    usage: (u) => {
      if (typeof u === 'string') node.usage = u;
    },
    epilog: (e) => {
      if (typeof e === 'string') node.epilog = e;
    },
  };
  handlers.epilogue = handlers.epilog as (...args: unknown[]) => void;
  const recorder: object = new Proxy(
    {},
    {
      get:
        (_target, prop) =>
        (...args: unknown[]) => {
          if (typeof prop === 'string') handlers[prop]?.(...args);
          return recorder;
        },
    },
  );
  (builder as (y: unknown) => unknown)(recorder);
}

/** The tree of one command module (its builder is run, its handler is not). */
export function commandNode(mod: CommandModule): CommandNode {
  const command = Array.isArray(mod.command) ? mod.command[0] : mod.command;
  const { name, positionals } = parseCommandString(String(command ?? ''));
  const aliases = [
    ...(Array.isArray(mod.command) ? mod.command.slice(1).map((c) => c.split(' ')[0] ?? '') : []),
    ...(mod.aliases === undefined ? [] : Array.isArray(mod.aliases) ? mod.aliases : [mod.aliases]),
  ];
  const node: CommandNode = {
    name,
    aliases,
    description: typeof mod.describe === 'string' ? mod.describe : '',
    positionals,
    flags: [],
    commands: [],
    examples: [],
  };
  record(node, mod.builder);
  return node;
}

/** The whole tree: the root `berth` with its global flags and every command. */
export function commandTree(
  modules: readonly CommandModule[],
  globalFlags: Readonly<Record<string, Options>>,
  info: { description: string; epilog?: string },
): CommandNode {
  return {
    name: 'berth',
    aliases: [],
    description: info.description,
    positionals: [],
    flags: [
      ...Object.entries(globalFlags).map(([k, o]) => flagNode(k, o)),
      flagNode('help', { alias: 'h', type: 'boolean', description: 'show help' }),
      flagNode('version', { alias: 'V', type: 'boolean', description: 'show the version number' }),
    ],
    commands: modules.map(commandNode),
    examples: [],
    ...(info.epilog !== undefined && { epilog: info.epilog }),
  };
}

/** `--bind`, `-B`, `--pwd`: every spelling of a flag. */
export const spellings = (f: FlagNode): string[] => [
  `--${f.name}`,
  ...f.aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)),
];
