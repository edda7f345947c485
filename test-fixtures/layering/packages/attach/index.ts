export const name = 'attach';
