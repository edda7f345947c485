import { defineBerthError, isBerthError, isInternalError, parseOptions } from '@berth-oci/errors';
import * as v from 'valibot';

export type GreetErrorCode = 'ERR_GREET_EMPTY' | 'ERR_INVALID_OPTIONS';
export class GreetError extends defineBerthError<GreetErrorCode>('GreetError') {}

const GreetOptionsSchema = v.strictObject({ name: v.string() });

export function greet(options: unknown): string {
  const o = parseOptions(GreetOptionsSchema, options, 'greet options', GreetError);
  if (o.name === '')
    throw new GreetError('ERR_GREET_EMPTY', 'the name is empty', { hint: 'pass a name' });
  return `hello ${o.name}`;
}

console.log(greet({ name: 'berth' })); // hello berth
try {
  greet({ nam: 'x' }); // typo: throws GreetError ERR_INVALID_OPTIONS naming the key
} catch (e) {
  if (isBerthError(e) && !isInternalError(e)) {
    console.error(`${e.code}: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
  } else throw e;
}
