import { BerthError, type BerthErrorOptions, isBerthError } from './berth-error.js';

/** A berth error whose `code` is one of the package's documented codes `C`. */
export type BerthErrorOf<C extends string> = BerthError & { readonly code: C };

/** The class `defineBerthError` returns: construct it with a code of `C`. */
export interface BerthErrorClass<C extends string> {
  new (code: C, message: string, options?: BerthErrorOptions): BerthErrorOf<C>;
  readonly prototype: BerthErrorOf<C>;
  /** True for an error of this class (brand and name), whichever copy of the package made it. */
  isInstance(error: unknown): error is BerthErrorOf<C>;
}

/**
 * The base class of one package's error: a `BerthError` named `name` whose code is one of `C`.
 *
 * ```ts
 * export type IdmapErrorCode = 'ERR_IDMAP_PARSE' | 'ERR_INVALID_OPTIONS';
 * export class IdmapError extends defineBerthError<IdmapErrorCode>('IdmapError') {}
 * ```
 */
export function defineBerthError<C extends string>(name: string): BerthErrorClass<C> {
  const Defined = class extends BerthError {
    constructor(code: C, message: string, options?: BerthErrorOptions) {
      super(code, message, options);
      this.name = name;
    }

    static override isInstance(error: unknown): error is BerthErrorOf<C> {
      return isBerthError(error) && error.name === name;
    }
  };
  Object.defineProperty(Defined, 'name', { value: name });
  return Defined as unknown as BerthErrorClass<C>;
}
