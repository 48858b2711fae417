// What every resolver receives: the caller, a request-scoped logger, the services and per-request loaders.
import type { Logger } from 'pino';
import type { Viewer } from './auth/viewer';
import { createTransactionPagesLoader, type TransactionPagesLoader } from './modules/transactions/transaction-pages-loader';
import type { Services } from './services';

export interface Loaders {
  transactionPages: TransactionPagesLoader;
}

export interface GraphQLContext {
  viewer: Viewer;
  logger: Logger;
  requestId: string;
  services: Services;
  loaders: Loaders;
}

/** Loaders cache per request only, so one caller never sees another's results. */
export function createLoaders(services: Services): Loaders {
  return { transactionPages: createTransactionPagesLoader(services.transactions) };
}
