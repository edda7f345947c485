import { readFile } from 'node:fs/promises';
import { LaunchError } from './errors.js';
import { isPermissionError, readFailure } from './fs-errors.js';

/**
 * Variables an env file may not set (upstream strips the shell's read-only variables).
 */
export const ENV_FILE_IGNORED = ['EUID', 'GID', 'HOME', 'IFS', 'OPTIND', 'PWD', 'UID'];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPECIAL = new Set([';', '&', '|', '<', '>', '(', ')']);

class Parser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly vars: Map<string, string>,
    private readonly fail: (message: string) => Error,
  ) {}

  private peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  /** `$NAME`, `${NAME}`, `${NAME:-word}` and friends; `$(...)` and backquotes are refused. */
  private expansion(): string {
    this.pos++; // $
    const c = this.peek();
    if (c === '(') throw this.fail('command substitution is not allowed: execution is disabled');
    if (c === '{') {
      this.pos++;
      const start = this.pos;
      while (this.peek() !== undefined && /[A-Za-z0-9_]/.test(this.peek() as string)) this.pos++;
      const name = this.text.slice(start, this.pos);
      if (!NAME.test(name) && !/^\d+$/.test(name)) throw this.fail('bad parameter substitution');
      let op = '';
      if (this.peek() === ':' && /[-=+?]/.test(this.peek(1) ?? '')) {
        op = `:${this.peek(1)}`;
        this.pos += 2;
      } else if (/[-=+?]/.test(this.peek() ?? '')) {
        op = this.peek() as string;
        this.pos++;
      }
      let word = '';
      if (op !== '') word = this.word('}', true);
      if (this.peek() !== '}')
        throw this.fail('a parameter substitution is not closed (missing })');
      this.pos++;
      const value = this.vars.get(name);
      const unsetOrEmpty = op.startsWith(':') ? !value : value === undefined;
      switch (op) {
        case '':
          return value ?? '';
        case '-':
        case ':-':
          return unsetOrEmpty ? word : (value as string);
        case '=':
        case ':=':
          if (unsetOrEmpty) this.vars.set(name, word);
          return unsetOrEmpty ? word : (value as string);
        case '+':
        case ':+':
          return unsetOrEmpty ? '' : word;
        default:
          if (unsetOrEmpty) throw this.fail(`${name}: ${word || 'parameter not set'}`);
          return value as string;
      }
    }
    const start = this.pos;
    while (this.peek() !== undefined && /[A-Za-z0-9_]/.test(this.peek() as string)) this.pos++;
    const name = this.text.slice(start, this.pos);
    if (name === '') return '$';
    return this.vars.get(name) ?? '';
  }

  /**
   * One word up to unquoted white space, a newline or an operator (or `stop`, inside `${...}`),
   * with quotes removed and substitutions done.
   */
  word(stop?: string, inBraces = false): string {
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) return out;
      if (c === stop) return out;
      if (!inBraces && (c === ' ' || c === '\t' || c === '\n' || SPECIAL.has(c))) return out;
      if (c === '`') throw this.fail('command substitution is not allowed: execution is disabled');
      if (c === '\\') {
        const n = this.peek(1);
        this.pos += 2;
        if (n === '\n' || n === undefined) continue;
        out += n;
        continue;
      }
      if (c === "'") {
        const end = this.text.indexOf("'", this.pos + 1);
        if (end < 0) throw this.fail('a single-quoted string is not closed');
        out += this.text.slice(this.pos + 1, end);
        this.pos = end + 1;
        continue;
      }
      if (c === '"') {
        this.pos++;
        for (;;) {
          const d = this.peek();
          if (d === undefined) throw this.fail('a double-quoted string is not closed');
          if (d === '"') {
            this.pos++;
            break;
          }
          if (d === '`')
            throw this.fail('command substitution is not allowed: execution is disabled');
          if (d === '\\') {
            const n = this.peek(1);
            if (n !== undefined && '$`"\\\n'.includes(n)) {
              this.pos += 2;
              if (n !== '\n') out += n;
              continue;
            }
            out += d;
            this.pos++;
            continue;
          }
          if (d === '$') {
            out += this.expansion();
            continue;
          }
          out += d;
          this.pos++;
        }
        continue;
      }
      if (c === '$') {
        out += this.expansion();
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  /** Skips blanks and comments; returns false at the end of the text. */
  blanks(): boolean {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return false;
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\\' && this.peek(1) === '\n') this.pos += 2;
      else if (c === '#') {
        while (this.peek() !== undefined && this.peek() !== '\n') this.pos++;
      } else return true;
    }
  }

  /** The assignment name at the cursor (`NAME=`), consuming it, or undefined. */
  assignment(): string | undefined {
    const m = /^[A-Za-z_][A-Za-z0-9_]*=/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0].slice(0, -1);
  }
}

/**
 * Evaluates an env file as upstream does (a shell script run with `set -a`, no command
 * execution): `NAME=value` assignments (quotes, escapes, `$VAR`, `${VAR}`, `${VAR:-default}`
 * and the other parameter forms, expanding the host environment and earlier assignments),
 * `export NAME[=value]`, `unset NAME`, comments. Commands and command substitution are refused.
 * Returns the variables the file sets, in order, without `ENV_FILE_IGNORED`. Throws
 * `ERR_LAUNCH_ENV_FILE` naming the file and line.
 */
export function evaluateEnvFile(
  text: string,
  env: Record<string, string | undefined>,
  file = 'env file',
): Map<string, string> {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars.set(k, v);
  const exported: string[] = [];
  const mark = (name: string) => {
    if (!exported.includes(name)) exported.push(name);
  };
  let parser: Parser;
  const fail = (message: string) => {
    const line = text.slice(0, parser.pos).split('\n').length;
    return new LaunchError(
      'ERR_LAUNCH_ENV_FILE',
      `while processing ${file} (line ${line}): ${message}`,
      {
        hint: 'an env file holds NAME=value lines (shell syntax); commands are not run',
      },
    );
  };
  parser = new Parser(text, vars, fail);
  for (;;) {
    if (!parser.blanks()) break;
    const c = text[parser.pos] as string;
    if (c === '\n' || c === ';') {
      parser.pos++;
      continue;
    }
    if (SPECIAL.has(c)) throw fail(`"${c}" is not allowed in an env file`);
    // one simple command: assignments, then maybe a command word and its arguments
    const assigned: [string, string][] = [];
    const words: { name?: string; value: string }[] = [];
    while (parser.blanks()) {
      const d = text[parser.pos] as string;
      if (d === '\n' || d === ';') break;
      if (SPECIAL.has(d)) throw fail(`"${d}" is not allowed in an env file`);
      const name = parser.assignment();
      const value = parser.word();
      if (name !== undefined && words.length === 0) assigned.push([name, value]);
      else words.push(name === undefined ? { value } : { name, value });
    }
    const command = words[0];
    if (command === undefined) {
      for (const [name, value] of assigned) {
        vars.set(name, value);
        mark(name);
      }
      continue;
    }
    if (assigned.length > 0 || command.name !== undefined) {
      throw fail(`could not execute ${JSON.stringify(command.value)}: execution is disabled`);
    }
    switch (command.value) {
      case 'export':
        for (const w of words.slice(1)) {
          if (w.name !== undefined) {
            vars.set(w.name, w.value);
            mark(w.name);
          } else if (NAME.test(w.value)) {
            if (vars.has(w.value)) mark(w.value);
          } else if (w.value !== '-p')
            throw fail(`export: bad variable name ${JSON.stringify(w.value)}`);
        }
        break;
      case 'unset':
        for (const w of words.slice(1)) {
          if (w.value === '-v') continue;
          vars.delete(w.value);
          const i = exported.indexOf(w.value);
          if (i >= 0) exported.splice(i, 1);
        }
        break;
      case ':':
      case 'true':
        break;
      default:
        throw fail(
          `could not execute ${JSON.stringify(words.map((w) => (w.name ? `${w.name}=${w.value}` : w.value)).join(' '))}: execution is disabled`,
        );
    }
  }
  const out = new Map<string, string>();
  for (const name of exported) {
    if (ENV_FILE_IGNORED.includes(name)) continue;
    const value = vars.get(name);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

/** Reads and evaluates an env file (see `evaluateEnvFile`). */
export async function readEnvFile(
  file: string,
  env: Record<string, string | undefined>,
): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LaunchError(
      'ERR_LAUNCH_ENV_FILE',
      `could not read environment file "${file}": ${readFailure(cause)}`,
      {
        hint: isPermissionError(cause)
          ? 'give a file you may read, or fix its permissions'
          : 'check the path given to --env-file',
        cause,
      },
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new LaunchError(
      'ERR_LAUNCH_ENV_FILE',
      `environment file "${file}" holds a NUL byte (line ${line}): it is not a text file`,
      { hint: 'give --env-file a text file of NAME=value lines' },
    );
  }
  return evaluateEnvFile(text, env, file);
}
