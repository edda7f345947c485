export const name = 'lock';
