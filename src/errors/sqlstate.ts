/**
 * The SQLSTATE codes tenantgate answers with: one catalogue, so that code, types and
 * docs cannot drift apart (tests/errors.test.ts checks README's table against it).
 * Codes and condition names are PostgreSQL's (Appendix A of its documentation).
 */
export const SqlState = {
  SuccessfulCompletion: '00000',
  Warning: '01000',
  ConnectionException: '08000',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  DataException: '22000',
  StringDataRightTruncation: '22001',
  NumericValueOutOfRange: '22003',
  InvalidDatetimeFormat: '22007',
  DatetimeFieldOverflow: '22008',
  DivisionByZero: '22012',
  InvalidParameterValue: '22023',
  InvalidTextRepresentation: '22P02',
  InvalidTransactionState: '25000',
  ActiveSqlTransaction: '25001',
  ReadOnlySqlTransaction: '25006',
  NoActiveSqlTransaction: '25P01',
  InFailedSqlTransaction: '25P02',
  InvalidAuthorizationSpecification: '28000',
  InvalidPassword: '28P01',
  InvalidCatalogName: '3D000',
  SyntaxErrorOrAccessRuleViolation: '42000',
  SyntaxError: '42601',
  InsufficientPrivilege: '42501',
  UndefinedColumn: '42703',
  UndefinedFunction: '42883',
  UndefinedTable: '42P01',
  UndefinedObject: '42704',
  AmbiguousColumn: '42702',
  GroupingError: '42803',
  DatatypeMismatch: '42804',
  InsufficientResources: '53000',
  OutOfMemory: '53200',
  TooManyConnections: '53300',
  ProgramLimitExceeded: '54000',
  StatementTooComplex: '54001',
  ObjectNotInPrerequisiteState: '55000',
  QueryCanceled: '57014',
  AdminShutdown: '57P01',
  CannotConnectNow: '57P03',
  InternalError: 'XX000',
} as const;

export type SqlStateName = keyof typeof SqlState;
export type SqlStateCode = (typeof SqlState)[SqlStateName];
