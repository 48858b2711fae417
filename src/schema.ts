// The executable schema: every module's SDL and an explicit resolver map.
import fs from 'node:fs';
import path from 'node:path';
import type { Resolvers } from './generated/graphql';
import * as legacy from './modules/legacy/legacy-resolvers';
import { JSONObjectScalar } from './modules/common/json-object-scalar';
import { DateTimeScalar } from './modules/system/date-time-scalar';
import * as system from './modules/system/system-resolvers';
import { MinorUnitsScalar } from './modules/transactions/minor-units-scalar';
import * as transactions from './modules/transactions/transactions-resolvers';
import * as users from './modules/users/users-resolvers';

const MODULES_DIR = path.join(__dirname, 'modules');

export function loadTypeDefs(): string[] {
  return fs
    .readdirSync(MODULES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => fs.readFileSync(path.join(MODULES_DIR, file), 'utf8'));
}

// Written out key by key: a spread of several maps would silently drop duplicate Query keys.
export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  MinorUnits: MinorUnitsScalar,
  JSONObject: JSONObjectScalar,
  Query: {
    viewer: system.viewer,
    me: users.me,
    user: users.user,
    users: users.users,
    legacyUser: legacy.legacyUser,
    legacyUserByAuth0Id: legacy.legacyUserByAuth0Id,
    userChanges: users.userChanges,
  },
  Mutation: {
    addUser: users.addUser,
    updateUser: users.updateUser,
    deleteUser: users.deleteUser,
    updateMe: users.updateMe,
    verifyLegacyPassword: legacy.verifyLegacyPassword,
    createTransaction: transactions.createTransaction,
    updateTransaction: transactions.updateTransaction,
    deleteTransaction: transactions.deleteTransaction,
  },
  User: {
    transactions: transactions.transactions,
    transactionSummary: transactions.transactionSummary,
    appMetadata: (user) => user.appMetadata as Record<string, unknown> | null,
    userMetadata: (user) => user.userMetadata as Record<string, unknown> | null,
  },
  UserChange: users.UserChange,
};
