/** A value that survives `JSON.stringify`/`JSON.parse` unchanged: what cursors and metadata must be. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (metadata bags). */
export type JsonObject = { [key: string]: JsonValue };
