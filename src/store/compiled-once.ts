/**
 * Hot point reads with their SQL built once. Kysely builds and compiles a query on every call
 * (about 25 µs in the fetch benchmark, BENCHMARKS.md); for the reads every request makes, the
 * SQL text is compiled once per engine and only the parameters change.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';

const cache = new Map<string, string>();

/**
 * Runs the query that `build` makes, with `parameters` in place of the ones `build` used.
 * `build` must put its parameters in the same order every time (it is called once per engine).
 */
export async function runCompiledOnce<Row>(
  db: Kysely<Database>,
  dialect: Dialect,
  name: string,
  build: (db: Kysely<Database>) => { compile(): CompiledQuery },
  parameters: readonly unknown[],
): Promise<Row | undefined> {
  const key = `${dialect}:${name}`;
  let sql = cache.get(key);
  if (sql === undefined) {
    sql = build(db).compile().sql;
    cache.set(key, sql);
  }
  const result = await db.executeQuery<Row>(CompiledQuery.raw(sql, [...parameters]));
  return result.rows[0];
}
