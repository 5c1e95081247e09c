/** What the worker needs of a database client: node-postgres' `Pool` and `PoolClient` fit. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}
