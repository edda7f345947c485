export const name = 'conmon-create';
