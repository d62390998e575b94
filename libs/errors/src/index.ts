export { KauditError, isKauditError, type ErrorCode, type KauditErrorOptions, ERROR_CODES } from './kaudit-error.js';
