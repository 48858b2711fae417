// Compares prisma/schema.prisma (parsed by Prisma itself) with a migrated database; lists every difference.
import fs from 'node:fs';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';
import type { Client } from 'pg';

type Dmmf = Awaited<ReturnType<typeof getDMMF>>;
type Field = Dmmf['datamodel']['models'][number]['fields'][number];

export const SCHEMA_PATH = path.resolve(__dirname, '../../prisma/schema.prisma');

export function parseSchema(file = SCHEMA_PATH): Promise<Dmmf> {
  return getDMMF({ datamodel: fs.readFileSync(file, 'utf8') });
}

interface Column {
  table_name: string;
  column_name: string;
  data_type: string;
  character_maximum_length: number | null;
  datetime_precision: number | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
}

interface Index {
  table: string;
  unique: boolean;
  primary: boolean;
  columns: string[];
  descending: boolean[];
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric',
  DateTime: 'timestamp without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

const NATIVE_TYPES: Record<string, string> = {
  VarChar: 'character varying',
  Char: 'character',
  Uuid: 'uuid',
  Text: 'text',
  Timestamptz: 'timestamp with time zone',
  Timestamp: 'timestamp without time zone',
  Integer: 'integer',
  BigInt: 'bigint',
  SmallInt: 'smallint',
};

function expectedType(field: Field): { type: string; length?: number; precision?: number } {
  const native = field.nativeType as [string, string[]] | null | undefined;
  if (native) {
    const [name, args] = native;
    const type = NATIVE_TYPES[name] ?? name.toLowerCase();
    const arg = args[0] === undefined ? undefined : Number(args[0]);
    if (name === 'VarChar' || name === 'Char') return { type, length: arg };
    if (name === 'Timestamptz' || name === 'Timestamp') return { type, precision: arg ?? 6 };
    return { type };
  }
  if (field.type === 'DateTime') return { type: SCALAR_TYPES.DateTime!, precision: 3 };
  return { type: SCALAR_TYPES[field.type] ?? `unknown Prisma type ${field.type}` };
}

/** Every way the database differs from the schema; empty when they agree. */
export async function schemaDrift(dmmf: Dmmf, client: Client): Promise<string[]> {
  const problems: string[] = [];
  const columns = (await client.query<Column>(`SELECT table_name, column_name, data_type, character_maximum_length, datetime_precision, is_nullable, column_default
      FROM information_schema.columns WHERE table_schema = 'public'`)).rows;
  const indexes = (await client.query<Index>(`
      SELECT t.relname AS table, ix.indisunique AS unique, ix.indisprimary AS primary,
             array_agg(a.attname::text ORDER BY k.ord) AS columns,
             array_agg((ix.indoption[k.ord - 1] & 1) = 1 ORDER BY k.ord) AS descending
        FROM pg_index ix
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       GROUP BY ix.indexrelid, t.relname, ix.indisunique, ix.indisprimary`)).rows;
  const foreignKeys = (await client.query<{ table: string; columns: string[]; target: string; on_delete: string }>(`
      SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS target, c.confdeltype AS on_delete,
             array(SELECT attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY o) AS columns
        FROM pg_constraint c WHERE c.contype = 'f'`)).rows;

  const tables = new Set(columns.map((column) => column.table_name));
  const modelTables = new Set(dmmf.datamodel.models.map((model) => model.dbName ?? model.name));
  for (const table of tables) {
    if (table !== '_prisma_migrations' && !modelTables.has(table)) problems.push(`table ${table} exists in the database but not in schema.prisma`);
  }

  for (const model of dmmf.datamodel.models) {
    const table = model.dbName ?? model.name;
    if (!tables.has(table)) {
      problems.push(`${model.name}: table ${table} is missing`);
      continue;
    }
    const columnOf = (fieldName: string) => model.fields.find((field) => field.name === fieldName)?.dbName ?? fieldName;
    const scalarFields = model.fields.filter((field) => field.kind === 'scalar' || field.kind === 'enum');
    const tableColumns = columns.filter((column) => column.table_name === table);
    for (const column of tableColumns) {
      if (!scalarFields.some((field) => (field.dbName ?? field.name) === column.column_name)) {
        problems.push(`${model.name}: column ${table}.${column.column_name} is not in schema.prisma`);
      }
    }
    for (const field of scalarFields) {
      const name = field.dbName ?? field.name;
      const column = tableColumns.find((candidate) => candidate.column_name === name);
      const where = `${model.name}.${field.name} (${table}.${name})`;
      if (!column) {
        problems.push(`${where}: column is missing`);
        continue;
      }
      const expected = expectedType(field);
      if (column.data_type !== expected.type) problems.push(`${where}: type is ${column.data_type}, schema says ${expected.type}`);
      if (expected.length !== undefined && column.character_maximum_length !== expected.length) {
        problems.push(`${where}: length is ${column.character_maximum_length}, schema says ${expected.length}`);
      }
      if (expected.precision !== undefined && column.datetime_precision !== expected.precision) {
        problems.push(`${where}: precision is ${column.datetime_precision}, schema says ${expected.precision}`);
      }
      if ((column.is_nullable === 'NO') !== field.isRequired) {
        problems.push(`${where}: ${column.is_nullable === 'NO' ? 'NOT NULL' : 'nullable'} in the database, ${field.isRequired ? 'required' : 'optional'} in the schema`);
      }
      const dbDefault = field.hasDefaultValue && !(field.default && typeof field.default === 'object' && 'name' in field.default && field.default.name === 'uuid');
      if (dbDefault && column.column_default === null) problems.push(`${where}: the schema has a default, the database has none`);
      if (!field.hasDefaultValue && column.column_default !== null) problems.push(`${where}: the database has a default (${column.column_default}), the schema has none`);
    }

    for (const index of dmmf.datamodel.indexes.filter((candidate) => candidate.model === model.name)) {
      const wanted = index.fields.map((field) => columnOf(field.name));
      const descending = index.fields.map((field) => field.sortOrder === 'desc');
      const found = indexes.find(
        (candidate) =>
          candidate.table === table &&
          candidate.columns.join() === wanted.join() &&
          candidate.descending.join() === descending.join() &&
          (index.type === 'id' ? candidate.primary : index.type === 'unique' ? candidate.unique : true),
      );
      if (!found) problems.push(`${model.name}: ${index.type} index on (${wanted.join(', ')}) is missing`);
    }

    for (const field of model.fields.filter((candidate) => candidate.kind === 'object' && (candidate.relationFromFields?.length ?? 0) > 0)) {
      const target = dmmf.datamodel.models.find((candidate) => candidate.name === field.type);
      const wanted = (field.relationFromFields ?? []).map(columnOf);
      const fk = foreignKeys.find((candidate) => candidate.table === table && candidate.columns.join() === wanted.join() && candidate.target === (target?.dbName ?? field.type));
      if (!fk) problems.push(`${model.name}.${field.name}: foreign key (${wanted.join(', ')}) -> ${target?.dbName ?? field.type} is missing`);
      else if (field.relationOnDelete === 'Cascade' && fk.on_delete !== 'c') problems.push(`${model.name}.${field.name}: foreign key should cascade on delete`);
    }
  }
  return problems;
}
