/**
 * `berth completion bash|zsh|fish`: prints a completion script made from berth's command tree
 * (command-tree.ts, so from the yargs modules and the option table). The script completes the
 * commands and subcommands, the flags of each, the values of flags and positionals that are a
 * fixed set (`--runtime crun|runc`, `completion bash|zsh|fish`), files elsewhere, and leaves the
 * container's command (after the image of run/exec/shell) to the shell's default completion.
 */
import type { Argv, CommandModule } from 'yargs';
import { type CommandNode, type FlagNode, spellings } from '../command-tree.js';
import { CliError } from '../errors.js';
import type { Io } from '../render.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** One command of the tree with its path (`berth oci create`) and the flags it accepts. */
interface Entry {
  path: string;
  node: CommandNode;
  /** Its own flags and the global ones (`--debug`, `--verbose`, `--help`). */
  flags: FlagNode[];
  /** The number of positionals after which the rest is another command's (run/exec/shell, oci exec). */
  rest?: number;
}

/** A short one-line description: no `[env: ...]` note, at most about 90 characters. */
export function shortDescription(text: string): string {
  const line = text
    .replace(/\s*\[env: [^\]]*\]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length <= 90 ? line : `${line.slice(0, 87).replace(/\s+\S*$/, '')}...`;
}

/** Every command of the tree, depth first, root first. */
export function entries(tree: CommandNode): Entry[] {
  const globals = tree.flags.filter((f) => f.name !== 'version');
  const out: Entry[] = [];
  const walk = (node: CommandNode, path: string, root: boolean) => {
    const own = new Set(node.flags.map((f) => f.name));
    const flags = root ? node.flags : [...node.flags, ...globals.filter((f) => !own.has(f.name))];
    const variadic = node.positionals.findIndex((p) => p.variadic);
    // run/exec/shell: everything after the image is the container's (see splitAtImage)
    const action = ['berth run', 'berth exec', 'berth shell'].includes(path);
    const rest = action ? 1 : variadic >= 0 ? variadic : undefined;
    out.push({ path, node, flags, ...(rest !== undefined && { rest }) });
    for (const c of node.commands) walk(c, `${path} ${c.name}`, false);
  };
  walk(tree, tree.name, true);
  return out;
}

const visible = (flags: FlagNode[]) => flags.filter((f) => !f.hidden);
const valued = (flags: FlagNode[]) => flags.filter((f) => f.takesValue).flatMap(spellings);
/** `'...'` for sh-like shells. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** `'...'` for fish. */
const fq = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** `case` branches `'berth oci|create'|'berth oci|...') echo create ;;` for each subcommand name. */
function subBranches(list: Entry[], indent: string, body: (name: string) => string): string[] {
  const lines: string[] = [];
  for (const e of list) {
    for (const c of e.node.commands) {
      const keys = [c.name, ...c.aliases].map((n) => sq(`${e.path}|${n}`)).join('|');
      lines.push(`${indent}${keys}) ${body(c.name)} ;;`);
    }
  }
  return lines;
}

function bashScript(tree: CommandNode, version: string): string {
  const list = entries(tree);
  const words = (e: Entry, f: (e: Entry) => string[]) => f(e).join(' ');
  const perPath = (f: (e: Entry) => string[]) =>
    list
      .filter((e) => f(e).length > 0)
      .map((e) => `    ${sq(e.path)}) printf '%s\\n' ${sq(words(e, f))} ;;`);
  const values: string[] = [];
  const positional: string[] = [];
  for (const e of list) {
    for (const f of e.flags) {
      if (f.takesValue && f.choices !== undefined) {
        const keys = spellings(f)
          .map((s) => sq(`${e.path}|${s}`))
          .join('|');
        values.push(`    ${keys}) printf '%s\\n' ${sq(f.choices.join(' '))} ;;`);
      }
    }
    e.node.positionals.forEach((p, i) => {
      if (p.choices !== undefined)
        positional.push(
          `    ${sq(`${e.path}|${i}`)}) printf '%s\\n' ${sq(p.choices.join(' '))} ;;`,
        );
    });
  }
  return `# bash completion for berth ${version}, made by \`berth completion bash\`.
# Load it in this shell with:   source <(berth completion bash)
# or for every shell:           berth completion bash > ~/.local/share/bash-completion/completions/berth

__berth_sub() {
  case "$1|$2" in
${subBranches(list, '    ', (n) => `echo ${n}`).join('\n')}
  esac
}
__berth_subs() {
  case "$1" in
${perPath((e) => e.node.commands.map((c) => c.name)).join('\n')}
  esac
}
__berth_flags() {
  case "$1" in
${perPath((e) => visible(e.flags).flatMap(spellings)).join('\n')}
  esac
}
__berth_valued() {
  case "$1" in
${perPath((e) => valued(e.flags)).join('\n')}
  esac
}
__berth_values() {
  case "$1|$2" in
${values.join('\n')}
  esac
}
__berth_positional() {
  case "$1|$2" in
${positional.join('\n')}
  esac
}
__berth_rest() {
  case "$1" in
${list
  .filter((e) => e.rest !== undefined)
  .map((e) => `    ${sq(e.path)}) echo ${e.rest} ;;`)
  .join('\n')}
  esac
}

_berth() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd=berth npos=0 i w sub rest flag='' list
  COMPREPLY=()
  [[ $cur == = ]] && cur=''
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    rest=$(__berth_rest "$cmd")
    # the container's command: the shell's own completion
    [[ -n $rest && $npos -ge $rest ]] && return 0
    case $w in
      --) return 0 ;;
      -*)
        if [[ " $(__berth_valued "$cmd") " == *" $w "* ]]; then
          [[ \${COMP_WORDS[i + 1]} == = ]] && ((i++))
          ((i + 1 >= COMP_CWORD)) && flag=$w
          ((i++))
        fi
        ;;
      *)
        sub=$(__berth_sub "$cmd" "$w")
        if [[ -n $sub ]]; then cmd="$cmd $sub"; else ((npos++)); fi
        ;;
    esac
  done
  rest=$(__berth_rest "$cmd")
  [[ -n $rest && $npos -ge $rest ]] && return 0
  if [[ -n $flag ]]; then
    list=$(__berth_values "$cmd" "$flag")
    [[ -n $list ]] && COMPREPLY=($(compgen -W "$list" -- "$cur"))
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(__berth_flags "$cmd")" -- "$cur"))
    return 0
  fi
  list=$(__berth_subs "$cmd")
  [[ -z $list ]] && list=$(__berth_positional "$cmd" "$npos")
  [[ -n $list ]] && COMPREPLY=($(compgen -W "$list" -- "$cur"))
  return 0
}
complete -o bashdefault -o default -F _berth berth
`;
}

function zshScript(tree: CommandNode, version: string): string {
  const list = entries(tree);
  const described = (name: string, text: string) =>
    sq(`${name.replace(/:/g, '\\:')}:${shortDescription(text)}`);
  const perPath = (f: (e: Entry) => string[]) =>
    list
      .filter((e) => f(e).length > 0)
      .map((e) => `    ${sq(e.path)}) reply=(${f(e).join(' ')}) ;;`);
  const values: string[] = [];
  const positional: string[] = [];
  for (const e of list) {
    for (const f of e.flags) {
      if (f.takesValue && f.choices !== undefined) {
        const keys = spellings(f)
          .map((s) => sq(`${e.path}|${s}`))
          .join('|');
        values.push(`    ${keys}) reply=(${f.choices.map(sq).join(' ')}) ;;`);
      }
    }
    e.node.positionals.forEach((p, i) => {
      if (p.choices !== undefined)
        positional.push(`    ${sq(`${e.path}|${i}`)}) reply=(${p.choices.map(sq).join(' ')}) ;;`);
    });
  }
  return `#compdef berth
# zsh completion for berth ${version}, made by \`berth completion zsh\`.
# Load it in this shell with:   source <(berth completion zsh)
# or for every shell: save it as _berth in a directory of $fpath (before compinit runs).

__berth_sub() {
  case "$1|$2" in
${subBranches(list, '    ', (n) => `REPLY=${n}`).join('\n')}
    *) REPLY='' ;;
  esac
}
__berth_subs() {
  reply=()
  case "$1" in
${perPath((e) => e.node.commands.map((c) => described(c.name, c.description))).join('\n')}
  esac
}
__berth_flags() {
  reply=()
  case "$1" in
${perPath((e) => visible(e.flags).flatMap((f) => spellings(f).map((s) => described(s, f.description)))).join('\n')}
  esac
}
__berth_valued() {
  reply=()
  case "$1" in
${perPath((e) => valued(e.flags)).join('\n')}
  esac
}
__berth_values() {
  reply=()
  case "$1|$2" in
${values.join('\n')}
  esac
}
__berth_positional() {
  reply=()
  case "$1|$2" in
${positional.join('\n')}
  esac
}
__berth_rest() {
  case "$1" in
${list
  .filter((e) => e.rest !== undefined)
  .map((e) => `    ${sq(e.path)}) REPLY=${e.rest} ;;`)
  .join('\n')}
    *) REPLY='' ;;
  esac
}

_berth() {
  local cur=\${words[CURRENT]} cmd=berth flag='' w
  local -i npos=0 i
  local -a reply
  local REPLY
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    __berth_rest "$cmd"
    if [[ -n $REPLY ]] && ((npos >= REPLY)); then
      # the container's command line, completed as a command line of its own
      words=("\${(@)words[i,-1]}")
      ((CURRENT -= i - 1))
      _normal
      return
    fi
    case $w in
      --) _files; return ;;
      -*)
        __berth_valued "$cmd"
        if ((\${reply[(Ie)$w]})); then
          ((i + 1 >= CURRENT)) && flag=$w
          ((i++))
        fi
        ;;
      *)
        __berth_sub "$cmd" "$w"
        if [[ -n $REPLY ]]; then cmd="$cmd $REPLY"; else ((npos++)); fi
        ;;
    esac
  done
  __berth_rest "$cmd"
  if [[ -n $REPLY ]] && ((npos >= REPLY)); then _files; return; fi
  if [[ -n $flag ]]; then
    __berth_values "$cmd" "$flag"
    if (($#reply)); then compadd -a reply; else _files; fi
    return
  fi
  if [[ $cur == -* ]]; then
    __berth_flags "$cmd"
    _describe -t options 'berth option' reply
    return
  fi
  __berth_subs "$cmd"
  if (($#reply)); then _describe -t commands 'berth command' reply; return; fi
  __berth_positional "$cmd" "$npos"
  if (($#reply)); then compadd -a reply; else _files; fi
}

if [[ $funcstack[1] == _berth ]]; then
  _berth "$@"
else
  compdef _berth berth
fi
`;
}

function fishScript(tree: CommandNode, version: string): string {
  const list = entries(tree);
  const lines: string[] = [];
  for (const e of list) {
    const at = `__berth_at ${fq(e.path)}`;
    for (const c of e.node.commands) {
      lines.push(
        `complete -c berth -n ${fq(at)} -f -a ${fq(c.name)} -d ${fq(shortDescription(c.description))}`,
      );
    }
    e.node.positionals.forEach((p, i) => {
      if (p.choices !== undefined)
        lines.push(
          `complete -c berth -n ${fq(`${at} ${i}`)} -f -a ${fq(p.choices.join(' '))} -d ${fq(shortDescription(p.description))}`,
        );
    });
    for (const f of visible(e.flags)) {
      const names = [f.name, ...f.aliases]
        .map((n) => (n.length === 1 ? `-s ${n}` : `-l ${n}`))
        .join(' ');
      const value = !f.takesValue
        ? ''
        : f.choices !== undefined
          ? ` -x -a ${fq(f.choices.join(' '))}`
          : ' -r';
      lines.push(
        `complete -c berth -n ${fq(at)} ${names}${value} -d ${fq(shortDescription(f.description))}`,
      );
    }
  }
  const branches = (f: (e: Entry) => string[]) =>
    list
      .filter((e) => f(e).length > 0)
      .map((e) => `    case ${fq(e.path)}\n      printf '%s\\n' ${f(e).join(' ')}`);
  return `# fish completion for berth ${version}, made by \`berth completion fish\`.
# Load it in this shell with:   berth completion fish | source
# or for every shell:           berth completion fish > ~/.config/fish/completions/berth.fish

function __berth_sub
  switch "$argv[1]|$argv[2]"
${list
  .flatMap((e) =>
    e.node.commands.map(
      (c) =>
        `    case ${[c.name, ...c.aliases].map((n) => fq(`${e.path}|${n}`)).join(' ')}\n      echo ${c.name}`,
    ),
  )
  .join('\n')}
  end
end
function __berth_valued
  switch "$argv[1]"
${branches((e) => valued(e.flags).map(fq)).join('\n')}
  end
end
function __berth_rest
  switch "$argv[1]"
${list
  .filter((e) => e.rest !== undefined)
  .map((e) => `    case ${fq(e.path)}\n      echo ${e.rest}`)
  .join('\n')}
  end
end
# The command the words before the cursor name, then "|rest" past its own arguments or
# "|N" for N positionals given.
function __berth_state
  set -l cmd berth
  set -l npos 0
  set -l skip 0
  for w in (commandline -opc)[2..-1]
    set -l rest (__berth_rest $cmd)
    if test -n "$rest"; and test $npos -ge $rest
      echo "$cmd|rest"
      return
    end
    if test $skip = 1
      set skip 0
      continue
    end
    switch $w
      case --
        echo "$cmd|rest"
        return
      case '--*=*'
      case '-*'
        if contains -- $w (__berth_valued $cmd)
          set skip 1
        end
      case '*'
        set -l sub (__berth_sub $cmd $w)
        if test -n "$sub"
          set cmd "$cmd $sub"
        else
          set npos (math $npos + 1)
        end
    end
  end
  set -l rest (__berth_rest $cmd)
  if test -n "$rest"; and test $npos -ge $rest
    echo "$cmd|rest"
  else
    echo "$cmd|$npos"
  end
end
# Whether the cursor is in the arguments of command $argv[1] (at positional $argv[2] if given).
function __berth_at
  set -l s (string split '|' -- (__berth_state))
  test "$s[1]" = "$argv[1]"; or return 1
  test "$s[2]" != rest; or return 1
  test (count $argv) -lt 2; or test "$s[2]" = "$argv[2]"
end

${lines.join('\n')}
`;
}

/** The completion script of `shell` for the command tree. */
export function completionScript(shell: Shell, tree: CommandNode, version: string): string {
  if (shell === 'bash') return bashScript(tree, version);
  if (shell === 'zsh') return zshScript(tree, version);
  return fishScript(tree, version);
}

/** `berth completion <shell>`; `tree` gives berth's command tree (this command included). */
export function completionCommand(
  io: Io,
  tree: () => CommandNode,
  version: string,
): CommandModule<object, { shell: Shell }> {
  return {
    command: 'completion <shell>',
    describe: 'print a completion script for bash, zsh or fish',
    builder: (y) =>
      (y as Argv)
        .positional('shell', { type: 'string', description: 'the shell: bash, zsh or fish' })
        .usage('berth completion bash|zsh|fish\n\nprint a completion script for bash, zsh or fish')
        .example([
          ['source <(berth completion bash)', 'complete berth in this bash'],
          ['berth completion fish | source', 'complete berth in this fish'],
        ])
        .epilog(
          'To complete berth in every shell: berth completion bash > ~/.local/share/bash-completion/completions/berth, berth completion zsh > DIR/_berth (DIR in $fpath), or berth completion fish > ~/.config/fish/completions/berth.fish.',
        ) as unknown as Argv<{ shell: Shell }>,
    handler: (argv) => {
      if (!SHELLS.includes(argv.shell)) {
        throw new CliError(
          'ERR_CLI_USAGE',
          `no completion for the shell ${JSON.stringify(argv.shell)}: bash, zsh or fish`,
          { hint: 'berth completion bash|zsh|fish' },
        );
      }
      io.stdout.write(completionScript(argv.shell, tree(), version));
    },
  };
}
