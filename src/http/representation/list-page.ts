/**
 * The paging of list resources at the edge: reading `PageSize`, `Page` and `PageToken`, and
 * writing the envelope links. JSON writes links in the current form (`?Filters&PageSize=50&Page=0`,
 * twilio-oai ListParticipant `readFull`); XML keeps the legacy form of the seed
 * (`?Page=0&PageSize=50`). Filters are carried in every link, so following `next_page_uri`
 * keeps the filter. Page tokens are `PA<seq>` (rows after) and `PB<seq>` (rows before), the
 * prefixes Twilio-compatible APIs use; clients treat them as opaque.
 */
import type { PageCursor, PageRequest, PageResult } from '../../domain/paging.js';
import { invalidParameter } from '../../errors.js';
import type { Format } from './format.js';
import { suffixOf } from './format.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

/** A filter as the client sent it, to echo into links: [parameter name, value]. */
export type Filter = readonly [string, string];

export interface ListRequest {
  page: PageRequest;
  /** The token as given, to echo into `uri`. */
  token?: string;
}

export function parsePaging(query: Record<string, unknown>): ListRequest {
  const pageSize = integerParam(query.PageSize, 'PageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const page = integerParam(query.Page, 'Page', 0, 0, Number.MAX_SAFE_INTEGER);
  const token = single(query.PageToken);
  if (token === undefined || token === '') return { page: { pageSize, page } };
  return { page: { pageSize, page, cursor: parseToken(token) }, token };
}

function single(value: unknown): string | undefined {
  if (Array.isArray(value)) return single(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}

function integerParam(raw: unknown, name: string, fallback: number, min: number, max: number): number {
  const value = single(raw);
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw invalidParameter(name, `must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`);
  }
  return Number(value);
}

function parseToken(token: string): PageCursor {
  const match = /^P([AB])(\d{1,15})$/.exec(token);
  if (!match) throw invalidParameter('PageToken', 'use the PageToken of a next_page_uri or previous_page_uri');
  return { direction: match[1] === 'A' ? 'after' : 'before', seq: Number(match[2]) };
}

function queryOf(filters: readonly Filter[], paging: ReadonlyArray<readonly [string, string | number]>): string {
  const parts = [...filters, ...paging].map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

export interface PageLinks {
  uri: string;
  first: string;
  next: string | null;
  previous: string | null;
  last: string;
  page: number;
  pageSize: number;
  start: number;
  end: number;
  total: number;
  numPages: number;
}

/** The envelope's numbers and links for one page, in the style of `format`. */
export function pageLinks<T>(path: string, filters: readonly Filter[], request: ListRequest, result: PageResult<T>, format: Format): PageLinks {
  const { pageSize, page } = request.page;
  const base = path + suffixOf(format);
  const link = (n: number, token?: string): string => {
    const paging: Array<[string, string | number]> =
      format === 'xml' ? [['Page', n], ['PageSize', pageSize]] : [['PageSize', pageSize], ['Page', n]];
    if (token) paging.push(['PageToken', token]);
    return base + queryOf(filters, paging);
  };
  const lastSeq = result.seqs[result.seqs.length - 1];
  const firstSeq = result.seqs[0];
  const numPages = Math.ceil(result.total / pageSize);
  const start = page * pageSize;
  return {
    uri: format === 'xml' ? base + queryOf(filters, []) : link(page, request.token),
    first: link(0),
    next: result.hasNext && lastSeq !== undefined ? link(page + 1, `PA${lastSeq}`) : null,
    previous: result.hasPrevious ? link(Math.max(0, page - 1), firstSeq === undefined ? undefined : `PB${firstSeq}`) : null,
    last: link(Math.max(0, numPages - 1)),
    page,
    pageSize,
    start,
    end: result.items.length === 0 ? start : start + result.items.length - 1,
    total: result.total,
    numPages,
  };
}
