import { pinHandler } from './pin.js';

export const unpinMessage = pinHandler('unpinMessage');
