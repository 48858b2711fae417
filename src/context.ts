// What every resolver receives: the caller, a request-scoped logger and the services.
import type { Logger } from 'pino';
import type { Viewer } from './auth/viewer';
import type { Services } from './services';

export interface GraphQLContext {
  viewer: Viewer;
  logger: Logger;
  requestId: string;
  services: Services;
}
