export const name = 'cli';
