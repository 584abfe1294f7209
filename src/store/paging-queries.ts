/**
 * One page of any list, for every table alike: the page itself (by offset or by keyset
 * cursor on `seq`), the filter's `total`, and whether rows exist on either side — the
 * `PageResult` of domain/paging.ts.
 *
 * Two queries per page: the rows (one more than asked, which answers "is there a next
 * page" for free) and one aggregate that counts the whole filter and, in the same scan,
 * the rows on the far side of the cursor. Both use the table's (filter column, seq) index.
 */
import { sql, type RawBuilder, type SelectQueryBuilder, type Selectable, type SqlBool } from 'kysely';
import type { PageRequest, PageResult } from '../domain/paging.js';
import type { Database } from './schema.js';

/** The direction of `seq` in which a list is shown: oldest first (`asc`) or newest first (`desc`). */
export type ListOrder = 'asc' | 'desc';

const seq = sql.ref('seq');

/** Rows strictly after (or before) `cursor` in list order. */
function beyond(order: ListOrder, side: 'after' | 'before', cursor: number): RawBuilder<SqlBool> {
  const greater = (order === 'asc') === (side === 'after');
  return greater ? sql<SqlBool>`${seq} > ${cursor}` : sql<SqlBool>`${seq} < ${cursor}`;
}

function flip(order: ListOrder): ListOrder {
  return order === 'asc' ? 'desc' : 'asc';
}

/**
 * `filtered` is `db.selectFrom(table).where(filter)` with nothing selected yet; `toItem`
 * maps a row to the domain record.
 */
export async function fetchPage<TB extends keyof Database, Item>(
  filtered: SelectQueryBuilder<Database, TB, object>,
  order: ListOrder,
  page: PageRequest,
  toItem: (row: Selectable<Database[TB]>) => Item,
): Promise<PageResult<Item>> {
  const { pageSize, cursor } = page;
  const offset = cursor === undefined ? page.page * pageSize : 0;

  // The aggregate counts the whole filter and the rows on the other side of the cursor
  // (the cursor row itself included, if it still exists).
  const otherSideCount =
    cursor === undefined
      ? sql<number>`0`
      : sql<number>`count(case when not (${beyond(order, cursor.direction, cursor.seq)}) then 1 end)`;
  const countQuery = filtered.select([sql<number>`count(*)`.as('total'), otherSideCount.as('beyond')]);

  let rowsQuery = filtered.selectAll();
  if (cursor === undefined) {
    rowsQuery = rowsQuery.orderBy(seq, order).limit(pageSize + 1).offset(offset);
  } else {
    // Walking backwards, the rows nearest the cursor come first; they are put back in list
    // order below.
    const walk = cursor.direction === 'after' ? order : flip(order);
    rowsQuery = rowsQuery
      .where(beyond(order, cursor.direction, cursor.seq))
      .orderBy(seq, walk)
      .limit(pageSize + 1);
  }

  const [rows, counts] = await Promise.all([rowsQuery.execute(), countQuery.executeTakeFirstOrThrow()]);
  const typedRows = rows as unknown as Selectable<Database[TB]>[];
  const more = typedRows.length > pageSize;
  const kept = more ? typedRows.slice(0, pageSize) : typedRows;
  const total = Number(counts.total);
  const otherSide = Number(counts.beyond) > 0;

  let hasNext: boolean;
  let hasPrevious: boolean;
  if (cursor === undefined) {
    hasNext = more;
    hasPrevious = offset > 0 && total > 0;
  } else if (cursor.direction === 'after') {
    hasNext = more;
    hasPrevious = otherSide;
  } else {
    kept.reverse();
    hasNext = otherSide;
    hasPrevious = more;
  }

  return {
    items: kept.map(toItem),
    seqs: kept.map((row) => (row as { seq: number }).seq),
    total,
    hasNext,
    hasPrevious,
  };
}
