// The MinorUnits scalar: integer money as bigint inside, a digit string outside; floats never enter.
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const DIGITS = /^-?\d{1,16}$/;

const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

function parseMinorUnits(value: unknown): bigint {
  let parsed: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw invalid('MinorUnits must be an integer number of minor units, never a fraction.');
    if (!Number.isSafeInteger(value)) throw invalid(`MinorUnits must be within +/-${MAX}.`);
    parsed = BigInt(value);
  } else if (typeof value === 'string' && DIGITS.test(value)) {
    parsed = BigInt(value);
  } else {
    throw invalid('MinorUnits must be an integer, as a JSON number or a string of digits.');
  }
  if (parsed > MAX || parsed < -MAX) throw invalid(`MinorUnits must be within +/-${MAX}.`);
  return parsed;
}

export const MinorUnitsScalar = new GraphQLScalarType<bigint, string>({
  name: 'MinorUnits',
  description: 'An integer amount in minor units, answered as a string of digits.',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    throw new GraphQLError('MinorUnits cannot represent a non-integer value.');
  },
  parseValue: parseMinorUnits,
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseMinorUnits(ast.kind === Kind.INT ? Number(ast.value) : ast.value);
    throw invalid('MinorUnits must be an integer or a string of digits.');
  },
});
