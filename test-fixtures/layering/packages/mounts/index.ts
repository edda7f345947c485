export const name = 'mounts';
