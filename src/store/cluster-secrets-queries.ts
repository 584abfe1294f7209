/**
 * Secrets the nodes of a deployment share: the first node to ask for one keeps its candidate
 * (an insert that does nothing when the name exists, so two nodes starting at once cannot both
 * win), and every node then reads the one kept.
 */
import type { QueryContext } from './query-context.js';

export async function clusterSecret({ db }: QueryContext, name: string, candidate: string): Promise<string> {
  await db
    .insertInto('cluster_secrets')
    .values({ name, value: candidate })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('cluster_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return row.value;
}
