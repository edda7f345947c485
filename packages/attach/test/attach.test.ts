import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { isBerthError } from '@berth-oci/errors';
import nus from 'node-unix-socket';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attach } from '../src/attach.js';
import { DetachKeyMatcher, parseDetachKeys } from '../src/detach-keys.js';

const keys = (spec: string) => new DetachKeyMatcher(parseDetachKeys(spec));

test('DetachKeyMatcher: the whole sequence detaches, input before it is forwarded', () => {
  const m = keys('ctrl-p,ctrl-q');
  assert.equal(m.push(Buffer.from('ls\n\x10\x11rest')), {
    forward: Buffer.from('ls\n'),
    detached: true,
  });
});

test('DetachKeyMatcher: a sequence split across chunks is held back, then detaches', () => {
  const m = keys('ctrl-p,ctrl-q');
  assert.equal(m.push(Buffer.from('a\x10')), { forward: Buffer.from('a'), detached: false });
  assert.equal(m.push(Buffer.from('\x11')), { forward: Buffer.alloc(0), detached: true });
});

test('DetachKeyMatcher: a broken sequence is passed on whole, and can restart', () => {
  const m = keys('ctrl-p,ctrl-q');
  assert.equal(m.push(Buffer.from('\x10x')), { forward: Buffer.from('\x10x'), detached: false });
  assert.equal(m.push(Buffer.from('\x10\x10')), { forward: Buffer.from('\x10'), detached: false });
  assert.equal(m.push(Buffer.from('\x11')), { forward: Buffer.alloc(0), detached: true });
  const n = keys('ctrl-a,d');
  assert.equal(n.push(Buffer.from('\x01')), { forward: Buffer.alloc(0), detached: false });
  assert.equal([...n.flush()], [1], 'flush returns what was held');
});

test('DetachKeyMatcher: empty keys never detach', () => {
  const m = keys('');
  assert.equal(m.push(Buffer.from('\x10\x11')), {
    forward: Buffer.from('\x10\x11'),
    detached: false,
  });
});

/** A stand-in for conmon's attach socket. */
async function fakeConmon() {
  const bundle = await mkdtemp(path.join(os.tmpdir(), 'att-'));
  const server = new nus.SeqpacketServer();
  server.listen(path.join(bundle, 'attach'));
  const received: Buffer[] = [];
  const conn = new Promise<InstanceType<typeof nus.SeqpacketSocket>>((resolve) => {
    server.on('connection', (socket: InstanceType<typeof nus.SeqpacketSocket>) => {
      socket.on('data', (d: Buffer) => received.push(Buffer.from(d)));
      socket.on('end', () => received.push(Buffer.from('<EOF>')));
      socket.on('error', () => {});
      resolve(socket);
    });
  });
  return { bundle, server, conn, received };
}

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d) => {
    text += d;
  });
  return { stream: s, text: () => text };
}

test('attach: frames go to stdout and stderr apart; input goes in; EOF is a zero-length message', async () => {
  const fake = await fakeConmon();
  const stdin = new PassThrough();
  const out = sink();
  const err = sink();
  const done = attach({
    bundle: fake.bundle,
    stdin,
    stdout: out.stream,
    stderr: err.stream,
    tty: false,
    onAttached: async () => {
      const socket = await fake.conn;
      socket.write(Buffer.from('\x02hello\n'));
      socket.write(Buffer.from('\x03oops\n'));
      stdin.write('typed\n');
      stdin.end();
      setTimeout(() => socket.destroy(), 100);
    },
  });
  const result = await done;
  assert.equal(result, { detached: false });
  assert.is(out.text(), 'hello\n');
  assert.is(err.text(), 'oops\n');
  assert.equal(
    fake.received.map((b) => b.toString()),
    ['typed\n', '<EOF>'],
    'input, then the zero-length message, which the server reads as end of input',
  );
  fake.server.close();
});

test('attach: a terminal gets all output on stdout; the detach keys end it', async () => {
  const fake = await fakeConmon();
  const stdin = new PassThrough();
  const out = sink();
  const result = await attach({
    bundle: fake.bundle,
    stdin,
    stdout: out.stream,
    stderr: sink().stream,
    tty: true,
    onAttached: async () => {
      const socket = await fake.conn;
      socket.write(Buffer.from('\x03both\n'));
      setTimeout(() => stdin.write('ls\x10\x11'), 50);
    },
  });
  assert.equal(result, { detached: true });
  assert.is(out.text(), 'both\n');
  await new Promise((r) => setTimeout(r, 50));
  // the input before the keys, then the disconnect (the keys themselves never reach conmon)
  assert.equal(
    fake.received.map((b) => b.toString()),
    ['ls', '<EOF>'],
  );
  fake.server.close();
});

test('attach: a container that ends while onAttached still runs (a slow start) ends the session', async () => {
  const fake = await fakeConmon();
  const out = sink();
  const done = attach({
    bundle: fake.bundle,
    stdin: new PassThrough(), // never ends, as a terminal would not
    stdout: out.stream,
    stderr: sink().stream,
    tty: false,
    onAttached: async () => {
      const socket = await fake.conn;
      socket.write(Buffer.from('\x02bye\n'));
      socket.destroy(); // the container exited at once...
      await new Promise((r) => setTimeout(r, 300)); // ...while `runc start` was still awaited
    },
  });
  const result = await Promise.race([
    done,
    new Promise((r) => setTimeout(() => r('never settled'), 3000)),
  ]);
  assert.equal(result, { detached: false });
  assert.is(out.text(), 'bye\n');
  fake.server.close();
});

test('attach: no socket is an error naming the path', async () => {
  const bundle = await mkdtemp(path.join(os.tmpdir(), 'att-'));
  try {
    await attach({ bundle, stdout: sink().stream, stderr: sink().stream });
    assert.unreachable();
  } catch (e) {
    assert.ok(isBerthError(e));
    assert.is((e as { code: string }).code, 'ERR_ATTACH_CONNECT');
    assert.ok((e as Error).message.includes(path.join(bundle, 'attach')));
  }
});

test.run();
