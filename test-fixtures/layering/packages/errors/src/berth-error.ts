// expect: none
export const brand = Symbol.for('berth.error');
