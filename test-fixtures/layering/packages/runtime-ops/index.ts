export const name = 'runtime-ops';
