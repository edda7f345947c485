export const name = 'launcher';
