export const name = 'idmap';
