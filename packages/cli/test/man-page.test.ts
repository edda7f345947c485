import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommandNode } from '../src/command-tree.js';
import { berthTree, main, VERSION } from '../src/main.js';
import { manPages, roff } from '../src/man-page.js';
import { captureIo } from './helpers.js';

const tree = berthTree();
const pages = manPages(tree, VERSION);

test('one page for berth and one per command, each listed in package.json `man`', () => {
  const names = ['berth.1', ...tree.commands.map((c) => `berth-${c.name}.1`)];
  assert.equal([...pages.keys()], names);
  for (const c of ['run', 'exec', 'shell', 'pull', 'oci', 'cache', 'completion'])
    assert.ok(pages.has(`berth-${c}.1`), c);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(
    pkg.man,
    names.map((n) => `./dist/man/${n}`),
  );
});

test("berth-exec(1) has the option table's flags under their headings, with variables", () => {
  const page = pages.get('berth-exec.1') as string;
  assert.match(page, /^\.TH "BERTH-EXEC" "1" "" "berth \d+\.\d+\.\d+" "berth manual"$/m);
  assert.match(page, /^\.SS "Mounts and directories"$/m);
  assert.match(page, /^\\fB\\-B\\fR, \\fB\\-\\-bind\\fR \\fIVALUE\\fR$/m);
  assert.match(page, /\[env: BERTH_BIND/);
  assert.match(page, /^\\fB\\-f\\fR, \\fB\\-\\-fakeroot\\fR$/m);
  // the refused flags are hidden from --help, and from the page
  assert.not.match(page, /^\\fB\\-\\-boot\\fR/m);
  assert.match(page, /^\.SH EXAMPLES$/m);
  assert.match(page, /^\\fBberth exec oci:\.\/layout id \\-u\\fR$/m);
});

test('berth-oci(1) has every subcommand with its flags; berth(1) names every page', () => {
  const oci = pages.get('berth-oci.1') as string;
  for (const c of ['create', 'start', 'kill', 'exec', 'mount', 'umount'])
    assert.match(oci, new RegExp(`^\\.SS "${c}"$`, 'm'));
  assert.match(oci, /\\fB\\-b\\fR, \\fB\\-\\-bundle\\fR/);
  const root = pages.get('berth.1') as string;
  for (const c of tree.commands) assert.match(root, `\\fBberth\\-${c.name}\\fR(1)`);
  assert.match(root, /\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR/);
});

test('roff escapes backslashes, dashes and lines that would be requests', () => {
  assert.is(roff('a\\b --x'), 'a\\eb \\-\\-x');
  assert.is(roff('.hidden\nfine'), '\\&.hidden\nfine');
  assert.is(roff("'quote"), "\\&'quote");
});

test('groff renders every page without warnings (when groff is here)', () => {
  for (const [name, text] of pages) {
    let out: string;
    try {
      out = execFileSync('groff', ['-man', '-Tutf8', '-ww', '-z'], {
        input: text,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') return;
      assert.unreachable(`${name}: ${err.stderr}`);
      return;
    }
    assert.is(out, '', name);
  }
});

test("every command's --help shows each example on one line at 80 columns", async () => {
  const withExamples: [string[], CommandNode][] = [];
  const walk = (node: CommandNode, path: string[]) => {
    if (node.examples.length > 0) withExamples.push([path, node]);
    for (const c of node.commands) walk(c, [...path, c.name]);
  };
  walk(tree, []);
  assert.ok(withExamples.length >= 5);
  const columns = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  Object.defineProperty(process.stdout, 'columns', { value: 80, configurable: true });
  try {
    for (const [path, node] of withExamples) {
      const t = captureIo();
      assert.is(await main([...path, '--help'], t.io), 0);
      const lines = t.out().split('Examples:\n')[1]?.split('\n\n')[0]?.split('\n') ?? [];
      assert.is(lines.length, node.examples.length, lines.join('\n'));
      node.examples.forEach(([command, text], i) => {
        assert.ok((lines[i] as string).length <= 80, lines[i]);
        assert.match(lines[i] as string, /^ {2}\S.* {2,}\S/);
        assert.ok(lines[i]?.startsWith(`  ${command} `), `${lines[i]} <- ${command}`);
        assert.ok(lines[i]?.endsWith(text), `${lines[i]} <- ${text}`);
      });
    }
  } finally {
    if (columns) Object.defineProperty(process.stdout, 'columns', columns);
    else delete (process.stdout as { columns?: number }).columns;
  }
});

test.run();
