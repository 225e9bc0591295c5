/**
 * `ptimer rpc --output json|table|yaml` (kamcli's formats). JSON is the default (indented);
 * YAML through the yaml package; a table is made for `ptimer.list` (one row per worker), for a
 * control answer (one row per worker touched) and for any list of flat objects; other values
 * fall back to key/value rows.
 */
import { createRequire } from 'node:module';
import type { TimerInfo } from '../control-types.js';
import { listTable, renderTable } from './table.js';

export const OUTPUT_FORMATS = ['json', 'table', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function formatResult(method: string, result: unknown, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'yaml':
      // Loaded only for YAML: the yaml package is most of what `ptimer rpc` would load otherwise.
      return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).stringify(
        result === undefined ? null : result,
      );
    case 'table':
      return `${tableOf(method, result)}\n`;
  }
}

function tableOf(method: string, result: unknown): string {
  if (method === 'ptimer.list' && Array.isArray(result)) return listTable(result as TimerInfo[]);
  if (isRecord(result) && Array.isArray(result.workers) && typeof result.timer === 'string') {
    const rows = (result.workers as unknown[]).filter(isRecord).map((w) => ({ timer: result.timer, ...w }));
    return rows.length > 0 ? objectsTable(rows) : `${result.timer}: no workers`;
  }
  if (Array.isArray(result)) {
    if (result.length === 0) return '(empty)';
    if (result.every(isRecord)) return objectsTable(result);
    return renderTable(
      ['VALUE'],
      result.map((v) => [cell(v)]),
    );
  }
  if (isRecord(result))
    return renderTable(
      ['KEY', 'VALUE'],
      Object.entries(result).map(([k, v]) => [k, cell(v)]),
    );
  return cell(result);
}

function objectsTable(rows: Record<string, unknown>[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return renderTable(
    keys.map((k) => k.toUpperCase()),
    rows.map((r) => keys.map((k) => cell(r[k]))),
  );
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects went to JSON above: only primitives and functions are left
  return String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
