import { SCRIPT_LIVE } from './script-live.js';
import { SCRIPT_ROWS } from './script-rows.js';
import { SCRIPT_TABLE } from './script-table.js';

/**
 * The status page's script: one ES module served same-origin, so the CSP can
 * forbid inline code. Its three parts share one module scope (rows, the
 * virtual table, live data and controls). @internal
 */
export const SCRIPT = [SCRIPT_ROWS, SCRIPT_TABLE, SCRIPT_LIVE].join('\n');
