// The one error type of tscni: CNI error codes (SPEC.md §6) plus a message that names what failed.

export const Code = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  Io: 5,
  Decode: 6,
  InvalidConfig: 7,
  InvalidNetns: 8,
  TryAgain: 11,
  StatusUnavailable: 50,
  StatusLimited: 51,
  Internal: 999,
} as const;

export type ErrorCode = (typeof Code)[keyof typeof Code] | number;

export class CniError extends Error {
  readonly code: ErrorCode;
  readonly details: string;

  constructor(code: ErrorCode, msg: string, details = '', options?: { cause?: unknown }) {
    super(msg, options);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }

  toJSON(cniVersion: string): Record<string, unknown> {
    const out: Record<string, unknown> = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** Turns anything thrown into a CniError; unknown failures become code 999 with their message. */
export function toCniError(err: unknown, fallbackCode: ErrorCode = Code.Internal): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    const code = errno === 'EACCES' || errno === 'EROFS' || errno === 'ENOSPC' || errno === 'EIO' ? Code.Io : fallbackCode;
    return new CniError(code, err.message, '', { cause: err });
  }
  return new CniError(fallbackCode, String(err));
}

/** Error helpers that keep messages uniform: `invalid <field> <value>: <why>`. */
export function invalidConfig(field: string, value: unknown, why: string): CniError {
  return new CniError(Code.InvalidConfig, `invalid ${field} ${JSON.stringify(value)}: ${why}`);
}

export function unsupportedField(field: string, value: unknown, why: string): CniError {
  return new CniError(Code.UnsupportedField, `unsupported ${field} ${JSON.stringify(value)}: ${why}`);
}
