export const name = 'image-extract';
