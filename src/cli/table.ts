import type { HealthState } from '../index.js';

/** One line of the `check` result. */
export interface TableRow {
  readonly name: string;
  readonly state: HealthState;
  /** Milliseconds; `undefined` when never checked. */
  readonly latency: number | undefined;
  readonly message: string;
}

/** How to render: a terminal gets colours and lines cut to its width. */
export interface TableStyle {
  /** ANSI colours for states and a bold header. */
  readonly color: boolean;
  /** Cut each line to this many characters; `undefined` keeps whole lines. */
  readonly width: number | undefined;
}

const COLORS: Readonly<Record<HealthState, string>> = {
  healthy: '\u001b[32m',
  degraded: '\u001b[33m',
  unhealthy: '\u001b[31m',
  stale: '\u001b[35m',
  unknown: '\u001b[90m',
};
const RESET = '\u001b[0m';
const BOLD = '\u001b[1m';

/**
 * Renders rows as aligned columns (NAME, STATE, LATENCY, MESSAGE) under a
 * header, ending with a newline; plain text unless `style.color`.
 */
export function renderTable(rows: readonly TableRow[], style: TableStyle): string {
  const header = ['NAME', 'STATE', 'LATENCY', 'MESSAGE'] as const;
  const cells = rows.map(
    (row) => [row.name, row.state, formatLatency(row.latency), oneLine(row.message)] as const,
  );
  const widths = [0, 1, 2].map((column) =>
    Math.max(header[column]!.length, ...cells.map((line) => line[column]!.length)),
  );
  const lines: string[] = [];
  const prefixOf = (line: readonly string[]): string =>
    `${line[0]!.padEnd(widths[0]!)}  ${line[1]!.padEnd(widths[1]!)}  ${line[2]!.padStart(widths[2]!)}  `;
  const headerText = cut(`${prefixOf(header)}${header[3]}`, style.width);
  lines.push(style.color ? `${BOLD}${headerText}${RESET}` : headerText);
  for (const [index, line] of cells.entries()) {
    const text = cut(`${prefixOf(line)}${line[3]}`, style.width);
    if (!style.color) {
      lines.push(text.trimEnd());
      continue;
    }
    // Colour only the state column, which starts right after the padded name.
    const start = widths[0]! + 2;
    const state = rows[index]!.state;
    lines.push(
      `${text.slice(0, start)}${COLORS[state]}${text.slice(start, start + widths[1]!)}${RESET}${text.slice(start + widths[1]!)}`.trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `850 µs`, `12 ms`, `1.25 s`; `-` when unknown. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function cut(text: string, width: number | undefined): string {
  if (width === undefined || text.length <= width) return text;
  return `${text.slice(0, Math.max(0, width - 1))}…`;
}
