import { SCRIPT_AUTH } from './script-auth.js';
import { SCRIPT_GROUPS } from './script-groups.js';
import { SCRIPT_LIVE } from './script-live.js';
import { SCRIPT_QUIET } from './script-quiet.js';
import { SCRIPT_ROWS } from './script-rows.js';
import { SCRIPT_SELECTOR } from './script-selector.js';
import { SCRIPT_TABLE } from './script-table.js';

/**
 * The status page's script: one ES module served same-origin, so the CSP can
 * forbid inline code. Its parts share one module scope (rows, the virtual
 * table, groups, silences and alerts, writes, the selector, live data); the
 * last one starts the page, so every part's top-level constants exist by then.
 * @internal
 */
export const SCRIPT = [
  SCRIPT_ROWS,
  SCRIPT_TABLE,
  SCRIPT_GROUPS,
  SCRIPT_QUIET,
  SCRIPT_AUTH,
  SCRIPT_SELECTOR,
  SCRIPT_LIVE,
].join('\n');
