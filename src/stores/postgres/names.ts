import { quoteIdentifier } from '../shared/identifiers.js';

/** The schema-qualified, quoted names of the store's tables and functions. */
export interface TableNames {
  readonly schema: string;
  readonly prefix: string;
  readonly sessions: string;
  readonly retired: string;
  readonly versions: string;
  readonly insertSession: string;
  readonly deleteUserSessions: string;
  readonly deleteAllSessions: string;
}

/** `schema` and `prefix` are validated identifiers (see resolveOptions). */
export function tableNames(schema: string, prefix: string): TableNames {
  const name = (suffix: string): string =>
    `${quoteIdentifier(schema)}.${quoteIdentifier(`${prefix}${suffix}`)}`;
  return {
    schema,
    prefix,
    sessions: name('sessions'),
    retired: name('retired_tokens'),
    versions: name('schema_version'),
    insertSession: name('insert_session'),
    deleteUserSessions: name('delete_user_sessions'),
    deleteAllSessions: name('delete_all_sessions'),
  };
}
