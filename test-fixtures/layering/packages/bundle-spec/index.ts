export const name = 'bundle-spec';
