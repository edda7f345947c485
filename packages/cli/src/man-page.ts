/**
 * Man pages made from berth's command tree (command-tree.ts): `berth(1)` for the whole command
 * and one page per command (`berth-exec(1)`, `berth-oci(1)` with its subcommands), so that they
 * say what `--help` says. scripts/man-pages.ts writes them into dist/man/ at build time; the
 * package's `man` field installs them.
 */
import type { CommandNode, FlagNode } from './command-tree.js';

/** Text escaped for roff: backslashes, dashes, and a line that would start with `.` or `'`. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** `berth oci kill <id> [sig]` from a node and its parents' names. */
function synopsis(path: string[], node: CommandNode): string[] {
  if (node.usage !== undefined) {
    const lines = node.usage.split('\n\n')[0]?.split('\n') ?? [];
    if (lines.length > 0 && lines.every((l) => l.startsWith('berth'))) return lines;
  }
  const positionals = node.positionals.map((p) => {
    const name = p.variadic ? `${p.name}..` : p.name;
    return p.required ? `<${name}>` : `[${name}]`;
  });
  const options = node.flags.some((f) => !f.hidden) ? ['[options]'] : [];
  return [[...path, ...options, ...positionals].join(' ')];
}

const spelled = (f: FlagNode): string => {
  const names = [...f.aliases.filter((a) => a.length === 1), f.name, ...f.aliases]
    .filter((a, i, all) => all.indexOf(a) === i)
    .map((a) => `\\fB${roff(a.length === 1 ? `-${a}` : `--${a}`)}\\fR`)
    .join(', ');
  if (!f.takesValue) return names;
  return `${names} \\fIVALUE\\fR`;
};

/** The `.TP` list of flags under their `--help` headings (`Options:` for those without one). */
function options(flags: FlagNode[], lines: string[], heading: (title: string) => string): void {
  const groups = new Map<string, FlagNode[]>();
  for (const f of flags) {
    if (f.hidden) continue;
    const g = f.group ?? 'Options:';
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  for (const [title, list] of groups) {
    lines.push(heading(title.replace(/:$/, '')));
    for (const f of list) {
      lines.push('.TP', spelled(f), roff(f.description || '(no description)'));
      if (f.default !== undefined) lines.push('.br', `Default: ${roff(f.default)}.`);
    }
  }
}

function examples(node: CommandNode, lines: string[]): void {
  for (const [command, text] of node.examples) {
    lines.push('.PP', roff(text), '.PP', '.RS 4', '.nf', `\\fB${roff(command)}\\fR`, '.fi', '.RE');
  }
}

function paragraphs(text: string, lines: string[]): void {
  for (const p of text.split('\n').filter((l) => l.trim() !== '')) lines.push('.PP', roff(p));
}

const header = (name: string, version: string) => [
  `.\\" Made by berth's build from its command tree (packages/cli/src/man-page.ts); do not edit.`,
  `.TH "${name.toUpperCase()}" "1" "" "berth ${version}" "berth manual"`,
  '.SH NAME',
];

/** `berth(1)`: every command, the global options, the image references. */
function rootPage(tree: CommandNode, version: string): string {
  const lines = header('berth', version);
  lines.push(`berth \\- ${roff(tree.description.replace(/^berth: /, ''))}`);
  lines.push('.SH SYNOPSIS', '\\fBberth\\fR [\\fIoptions\\fR] \\fIcommand\\fR ...');
  lines.push('.SH DESCRIPTION');
  paragraphs(
    'berth runs OCI containers without a daemon and without root, with the command line of SingularityCE in OCI mode. Each command has its own page: berth-COMMAND(1), and its own --help.',
    lines,
  );
  lines.push('.SH COMMANDS');
  for (const c of tree.commands) {
    lines.push('.TP', `\\fBberth\\-${roff(c.name)}\\fR(1)`, roff(c.description));
  }
  lines.push('.SH OPTIONS');
  options(tree.flags, lines, (t) => `.SS "${t === 'Options' ? 'Global options' : roff(t)}"`);
  if (tree.epilog !== undefined) {
    lines.push('.SH NOTES');
    paragraphs(tree.epilog, lines);
  }
  lines.push('.SH EXIT STATUS');
  paragraphs(
    "run, exec and shell exit with the container's status, or 128+N when signal N ended it; berth's own failures exit 255, as in SingularityCE.",
    lines,
  );
  lines.push('.SH SEE ALSO');
  lines.push(tree.commands.map((c) => `\\fBberth\\-${roff(c.name)}\\fR(1)`).join(', '));
  return `${lines.join('\n')}\n`;
}

/** `berth-<command>(1)`: its synopsis, options (its own, then the global ones), subcommands. */
function commandPage(tree: CommandNode, node: CommandNode, version: string): string {
  const name = `berth-${node.name}`;
  const lines = header(name, version);
  lines.push(`${roff(name)} \\- ${roff(node.description)}`);
  lines.push('.SH SYNOPSIS', '.nf');
  for (const l of synopsis(['berth', node.name], node)) lines.push(`\\fB${roff(l)}\\fR`);
  for (const c of node.commands) {
    for (const l of synopsis(['berth', node.name, c.name], c)) lines.push(`\\fB${roff(l)}\\fR`);
  }
  lines.push('.fi', '.SH DESCRIPTION');
  paragraphs(node.usage?.split('\n\n').slice(1).join('\n') || node.description, lines);
  for (const p of node.positionals) {
    if (p.description !== '')
      lines.push('.TP', `\\fI${roff(p.name.toUpperCase())}\\fR`, roff(p.description));
  }
  if (node.flags.some((f) => !f.hidden)) {
    lines.push('.SH OPTIONS');
    options(node.flags, lines, (t) => `.SS "${roff(t)}"`);
  }
  if (node.commands.length > 0) {
    lines.push('.SH COMMANDS');
    for (const c of node.commands) {
      const aliases = c.aliases.length > 0 ? ` (also ${c.aliases.join(', ')})` : '';
      lines.push(`.SS "${roff(`${c.name}${aliases}`)}"`);
      lines.push(
        '.nf',
        `\\fB${roff(synopsis(['berth', node.name, c.name], c)[0] ?? '')}\\fR`,
        '.fi',
      );
      lines.push('.PP', roff(c.description));
      for (const p of c.positionals) {
        if (p.description !== '')
          lines.push('.TP', `\\fI${roff(p.name.toUpperCase())}\\fR`, roff(p.description));
      }
      for (const f of c.flags) {
        if (f.hidden) continue;
        lines.push('.TP', spelled(f), roff(f.description || '(no description)'));
        if (f.default !== undefined) lines.push('.br', `Default: ${roff(f.default)}.`);
      }
    }
  }
  lines.push('.SH GLOBAL OPTIONS');
  for (const f of tree.flags.filter((g) => g.name !== 'version')) {
    lines.push('.TP', spelled(f), roff(f.description));
  }
  if (node.examples.length > 0) {
    lines.push('.SH EXAMPLES');
    examples(node, lines);
  }
  if (node.epilog !== undefined) {
    lines.push('.SH NOTES');
    paragraphs(node.epilog, lines);
  }
  lines.push('.SH SEE ALSO', '\\fBberth\\fR(1)');
  return `${lines.join('\n')}\n`;
}

/** Every page, by file name (`berth.1`, `berth-exec.1`, ...). */
export function manPages(tree: CommandNode, version: string): Map<string, string> {
  const pages = new Map<string, string>([['berth.1', rootPage(tree, version)]]);
  for (const c of tree.commands) pages.set(`berth-${c.name}.1`, commandPage(tree, c, version));
  return pages;
}
