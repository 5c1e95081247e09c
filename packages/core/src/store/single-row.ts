import { RepositoryError } from '../repository/repository-error.js';

/** The first row of a function that always answers one; its absence is a database fault. */
export function single<Row>(rows: readonly Row[], what: string): Row {
  const row = rows[0];
  if (!row) throw new RepositoryError({ reason: 'database', message: `${what} returned no row` });
  return row;
}
