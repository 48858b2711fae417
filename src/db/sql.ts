// The hot paths' SQL: plain `pg` on the pool Prisma shares, with statements prepared once per connection.
import { types, type CustomTypesConfig, type Pool, type QueryConfig } from 'pg';

/**
 * A statement that runs on every request of one kind (addUser, the viewer's row). Named, so each
 * pooled connection parses and plans it once and then only binds and executes it. Its text must
 * never change under the same name.
 */
export interface PreparedStatement {
  name: string;
  text: string;
}

const INT8 = 20;

/** Rows with int8 columns as bigint, as Prisma gives them (pg's default is a string), parsed as the rows arrive. */
export const INT8_AS_BIGINT: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8 && format !== 'binary' ? BigInt : types.getTypeParser(oid, format))) as CustomTypesConfig['getTypeParser'],
};

/**
 * Prisma's raw query path costs about twice what `pg` costs for the same statement (see
 * bench/sql-paths.ts), which the handful of statements every request runs pays on every call. They
 * run here instead, on the very pool Prisma uses, so there is still one pool to size and to drain.
 * Rows come back as `pg` parses them: timestamptz as Date, json as objects, int8 and numeric as
 * strings unless the caller asks for INT8_AS_BIGINT.
 */
export class SqlClient {
  private readonly prepare: boolean;
  /** Called with the SQL of every query (tests count them, as they count Prisma's). */
  private readonly onQuery?: (sql: string) => void;

  constructor(
    private readonly pool: Pool,
    options: { prepare?: boolean; onQuery?: (sql: string) => void } = {},
  ) {
    this.prepare = options.prepare ?? true;
    this.onQuery = options.onQuery;
  }

  /** Runs a prepared statement (unnamed, planned each time, when preparing is off: DATABASE_PREPARED_STATEMENTS). */
  async prepared<Row>(statement: PreparedStatement, values: unknown[]): Promise<Row[]> {
    return this.run<Row>(this.prepare ? { name: statement.name, text: statement.text, values } : { text: statement.text, values });
  }

  /** Runs a statement whose text varies with its arguments (planned each time, with the values it gets). */
  async query<Row>(text: string, values: unknown[], parsers?: CustomTypesConfig): Promise<Row[]> {
    return this.run<Row>(parsers ? { text, values, types: parsers } : { text, values });
  }

  private async run<Row>(config: QueryConfig): Promise<Row[]> {
    this.onQuery?.(config.text);
    const result = await this.pool.query(config);
    return result.rows as Row[];
  }
}
