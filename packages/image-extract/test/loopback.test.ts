import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopbackRegistry } from '../src/registry/loopback.js';

test('localhost, 127.0.0.0/8 and ::1 are loopback, with or without a port', () => {
  for (const r of [
    'localhost',
    'LOCALHOST:5000',
    '127.0.0.1',
    '127.0.0.1:5000',
    '127.1.2.3:80',
    '[::1]:5000',
    '[0:0:0:0:0:0:0:1]',
    '::1',
  ])
    assert.ok(isLoopbackRegistry(r), r);
});

test('every other registry is not', () => {
  for (const r of [
    'docker.io',
    'quay.io:443',
    '128.0.0.1:5000',
    '10.0.0.1',
    '127.0.0.1.example.com',
    'localhost.example.com:5000',
    '[::2]:5000',
    '[fe80::1]',
    'mylocalhost',
  ])
    assert.not.ok(isLoopbackRegistry(r), r);
});

test.run();
