export const name = 'errors';
