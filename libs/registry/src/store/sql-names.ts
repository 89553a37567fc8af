import { EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity's table and the column of each of its properties, quoted for a raw statement. Taken
 * from the entity's metadata, so the entity stays the one description of the row: a renamed column
 * changes the statements with it, and a misspelt property does not compile.
 */
export type SqlNames<E> = { readonly [P in keyof E & string]: string } & { readonly $table: string };

const cache = new WeakMap<EntityMetadata, SqlNames<ObjectLiteral>>();

export function sqlNames<E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>): SqlNames<E> {
  const metadata = manager.connection.getMetadata(entity);
  let names = cache.get(metadata);
  if (!names) {
    const escape = (name: string) => manager.connection.driver.escape(name);
    names = Object.freeze({
      ...Object.fromEntries(metadata.columns.map((column) => [column.propertyName, escape(column.databaseName)])),
      $table: escape(metadata.tablePath),
    }) as SqlNames<ObjectLiteral>;
    cache.set(metadata, names);
  }
  return names as SqlNames<E>;
}

/** The SQL type of a property's column, for casts such as `unnest($1::uuid[])`. */
export function sqlType<E extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<E>, property: keyof E & string): string {
  const column = manager.connection.getMetadata(entity).findColumnWithPropertyName(property);
  if (!column) throw new Error(`no column for ${String(property)}`);
  return manager.connection.driver.normalizeType(column);
}

/** A property's value as its column stores it (the column's transformer and type applied). */
export function sqlValue<E extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  property: keyof E & string,
  value: unknown,
): unknown {
  const column = manager.connection.getMetadata(entity).findColumnWithPropertyName(property);
  if (!column) throw new Error(`no column for ${String(property)}`);
  return manager.connection.driver.preparePersistentValue(value, column);
}

/**
 * Inserts any number of rows in one statement with one parameter per column
 * (`INSERT … SELECT * FROM unnest($1::uuid[], …)`), the columns and their types taken from the
 * entity. `fixed` gives every row the same value for further columns.
 */
export async function insertRows<E extends ObjectLiteral, P extends keyof E & string>(
  manager: EntityManager,
  entity: EntityTarget<E>,
  properties: readonly P[],
  rows: readonly Pick<E, P>[],
  fixed: Partial<E> = {},
): Promise<void> {
  if (!rows.length) return;
  const names = sqlNames(manager, entity);
  const fixedProperties = Object.keys(fixed) as (keyof E & string)[];
  // Each value as its column stores it: a jsonb value goes as JSON text (an array would be read as a SQL array).
  const params: unknown[] = properties.map((property) => rows.map((row) => sqlValue(manager, entity, property, row[property])));
  const arrays = properties.map((property, i) => `$${i + 1}::${sqlType(manager, entity, property)}[]`);
  const constants = fixedProperties.map((property) => {
    params.push(fixed[property]);
    return `$${params.length}::${sqlType(manager, entity, property)}`;
  });
  await manager.query(
    `INSERT INTO ${names.$table} (${[...properties, ...fixedProperties].map((p) => names[p]).join(', ')})
     SELECT *${constants.map((c) => `, ${c}`).join('')} FROM unnest(${arrays.join(', ')})`,
    params,
  );
}

/** The rows an UPDATE … RETURNING gave back (TypeORM answers such a statement with [rows, count]). */
export function returnedRows<T>(result: unknown): T[] {
  const rows = result as unknown[];
  return (Array.isArray(rows[0]) ? rows[0] : rows) as T[];
}
