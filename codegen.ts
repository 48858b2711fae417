// GraphQL Code Generator: resolver types from the SDL files, with Prisma's models as parents.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'src/modules/**/*.graphql',
  silent: true,
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../context#GraphQLContext',
        useIndexSignature: false,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { DateTime: 'Date', MinorUnits: 'bigint', JSONObject: 'Record<string, unknown>' },
        mappers: {
          User: '../generated/prisma/client#User as UserModel',
          Transaction: '../generated/prisma/client#Transaction as TransactionModel',
          UserChange: '../generated/prisma/client#UserChange as UserChangeModel',
        },
        inputMaybeValue: 'T | null | undefined',
      },
    },
  },
};

export default config;
