import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDetachKeys } from '../src/detach-keys.js';
import { inputMessages, parseFrame, resizeMessage } from '../src/frames.js';

test('parseFrame splits stream id and payload', () => {
  assert.equal(parseFrame(Buffer.from('\x02hello')), {
    stream: 'stdout',
    data: Buffer.from('hello'),
  });
  assert.equal(parseFrame(Buffer.from('\x03err')), { stream: 'stderr', data: Buffer.from('err') });
  assert.equal(parseFrame(Buffer.from('\x07x')), {
    stream: 'unknown',
    id: 7,
    data: Buffer.from('x'),
  });
  assert.is(parseFrame(Buffer.alloc(0)), undefined);
});

test('inputMessages: at most 32 KiB each, never empty', () => {
  const msgs = inputMessages(Buffer.alloc(40000, 1));
  assert.equal(
    msgs.map((m) => m.length),
    [32768, 7232],
  );
  assert.equal(inputMessages(Buffer.alloc(0)), []);
});

test('resizeMessage is conmon ctl type 1', () => {
  assert.is(resizeMessage(40, 120), '1 40 120\n');
  assert.throws(() => resizeMessage(-1, 2));
});

test('parseDetachKeys', () => {
  assert.equal([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.equal([...parseDetachKeys('ctrl-a,d')], [1, 100]);
  assert.equal([...parseDetachKeys('ctrl-@')], [0]);
  assert.equal([...parseDetachKeys('')], []);
  assert.throws(() => parseDetachKeys('ctrl-pp'), /invalid detach key/);
});

test.run();
