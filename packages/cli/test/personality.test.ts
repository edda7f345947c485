import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { personalityArgv, personalityOf, versionLine } from '../src/personality.js';

test('the program name picks the personality; any other name is berth', () => {
  assert.is(personalityOf('/usr/local/bin/singularity'), 'singularity');
  assert.is(personalityOf('apptainer'), 'apptainer');
  for (const n of ['/x/berth', '/x/dist/cli.js', 'singularity-ce', undefined])
    assert.is(personalityOf(n), 'berth', String(n));
});

/** Snakemake 7.21's check of `singularity --version` (deployment/singularity.py), in short. */
function snakemakeAccepts(line: string): boolean {
  const cmp = (a: string, b: string) => {
    const x = a.split('.').map(Number);
    const y = b.split('.').map(Number);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (x[i] ?? 0) - (y[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  };
  let v = line.split(' ').at(-1) as string;
  if (line.startsWith('apptainer')) return cmp(v, '1.0.0') >= 0;
  if (v.startsWith('v')) v = v.slice(1);
  return /^[0-9.]+$/.test(v) && cmp(v, '2.4.1') >= 0;
}

test('--version: a line Snakemake accepts, that says it is berth', () => {
  for (const p of ['singularity', 'apptainer'] as const) {
    const line = versionLine(p, '0.1.0');
    assert.ok(snakemakeAccepts(line), line);
    assert.match(line, /\(berth 0\.1\.0\)/);
    assert.equal(personalityArgv(p, ['--version'], '0.1.0'), { version: line });
    assert.equal(personalityArgv(p, ['version'], '0.1.0'), { version: line });
  }
  assert.match(versionLine('singularity', '1.2.3'), /^singularity-ce /);
  assert.match(versionLine('apptainer', '1.2.3'), /^apptainer /);
  // as berth, nothing changes
  assert.equal(personalityArgv('berth', ['--version']), { argv: ['--version'] });
});

test('run/exec/shell take the native defaults (--no-compat), --oci the compat ones', () => {
  const p = (argv: string[]) => personalityArgv('singularity', argv, '0');
  assert.equal(p(['exec', '--home', '/w', 'img.sif', 'sh', '-c', 'x']), {
    argv: ['exec', '--no-compat', '--home', '/w', 'img.sif', 'sh', '-c', 'x'],
  });
  assert.equal(p(['exec', '--home', '/w', '--oci', 'img', 'true']), {
    argv: ['exec', '--home', '/w', 'img', 'true'],
  });
  // --oci after the image is the container's argument
  assert.equal(p(['run', 'img', '--oci']), { argv: ['run', '--no-compat', 'img', '--oci'] });
  // upstream's global flags before the command
  assert.equal(p(['--quiet', '--silent', 'exec', 'img', 'true']), {
    argv: ['exec', '--quiet', '--no-compat', 'img', 'true'],
  });
  assert.equal(p(['-q', 'pull', '--name', 'f', 'docker://x']), {
    argv: ['pull', '--quiet', '--name', 'f', 'docker://x'],
  });
  assert.equal(p(['cache', 'list']), { argv: ['cache', 'list'] });
  assert.equal(personalityArgv('berth', ['exec', 'img', 'id']), { argv: ['exec', 'img', 'id'] });
});

test.run();
