// The services the resolvers hand their work to, built once per app.
import type { Config } from './config';
import type { PrismaClient } from './db/prisma';
import { UsersService } from './modules/users/users-service';

export interface Services {
  users: UsersService;
  config: Config;
}

export function createServices(config: Config, prisma: PrismaClient): Services {
  return { users: new UsersService(prisma), config };
}
