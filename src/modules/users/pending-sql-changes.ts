// How many of the app's SQL changes to users wait in user_changes for the write-back to send them.
import type { PrismaClient } from '../../db/prisma';

/** SQL changes recorded by the trigger and not sent to Auth0 yet (`pending`); they wait forever while write-back is off. */
export async function countPendingSqlChanges(prisma: PrismaClient): Promise<number> {
  const [row] = await prisma.$queryRaw<Array<{ pending: bigint }>>`
    SELECT count(*) AS pending FROM user_changes WHERE source = 'sql' AND status = 'pending'`;
  return Number(row?.pending ?? 0);
}
