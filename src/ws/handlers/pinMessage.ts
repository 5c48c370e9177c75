import { pinHandler } from './pin.js';

export const pinMessage = pinHandler('pinMessage');
