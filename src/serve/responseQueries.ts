// What the Responses page reads: the responder's actions (delays, kills, suspended execve, refusals, dry runs),
// newest first, a page at a time by id, optionally of one action kind or one executable.

import type { StateStore } from "../store/stateStore.js";

export const RESPONSE_PAGE_SIZE = 50;

export interface ResponseView {
  id: number;
  time: number;
  pid: number;
  exe: string | null;
  action: string;
  outcome: string;
  reason: string;
}

export interface ResponseFilter {
  action?: string;
  exe?: string;
}

export function responsePage(
  store: StateStore,
  f: ResponseFilter,
  before?: number,
  limit = RESPONSE_PAGE_SIZE,
): { rows: ResponseView[]; more: boolean } {
  const sql: string[] = [];
  const args: (string | number)[] = [];
  if (f.action !== undefined && f.action !== "") {
    sql.push("action = ?");
    args.push(f.action);
  }
  if (f.exe !== undefined && f.exe !== "") {
    sql.push("exe = ?");
    args.push(f.exe);
  }
  if (before !== undefined) {
    sql.push("id < ?");
    args.push(before);
  }
  const where = sql.length > 0 ? `WHERE ${sql.join(" AND ")}` : "";
  const rows = store
    .select(`SELECT id, time, pid, exe, action, outcome, reason FROM actions ${where} ORDER BY id DESC LIMIT ?`)
    .all(...args, limit + 1) as ResponseView[];
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
