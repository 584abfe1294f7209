/**
 * How a list is cut into pages, in the domain's terms. Two ways, as Twilio has them:
 * - by position (`Page` × `PageSize`, the legacy way, still what `Page` alone means);
 * - by keyset (`PageToken`): resume after (or before) the row with a given sequence number, so
 *   that following `next_page_uri` to the end yields every row exactly once even while rows
 *   are added or removed between requests.
 * Every stored row has a `seq`, a number that only grows, which is the keyset.
 */

export interface PageRequest {
  pageSize: number;
  /** Zero-based page number; used for the offset when there is no cursor. */
  page: number;
  cursor?: PageCursor;
}

export interface PageCursor {
  /** `after`: rows that come after `seq` in list order; `before`: rows that come before it. */
  direction: 'after' | 'before';
  seq: number;
}

export interface PageResult<T> {
  items: T[];
  /** `seq` of each item, same order, to build the next and previous cursors. */
  seqs: number[];
  /** Rows matching the filter in the whole list (the legacy `total`). */
  total: number;
  /** Whether rows exist after the last item of this page. */
  hasNext: boolean;
  /** Whether rows exist before the first item of this page. */
  hasPrevious: boolean;
}
