// Errors a user can act on: a stable code, what went wrong, where, and a hint.
// Only the CLI entry point turns them into an exit code.

export const ErrorCodes = {
  badInput: 'bad-input', // exit 2: a file, flag or packet the user gave is wrong
  missingTool: 'missing-tool', // exit 1: a system package is not installed
  notRoot: 'not-root', // exit 1
  runtime: 'runtime', // exit 1: something failed while running
  timeout: 'timeout', // exit 1
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class PmipError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly context?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'PmipError';
  }

  get exitCode(): number {
    return this.code === ErrorCodes.badInput ? 2 : 1;
  }
}

export const badInput = (message: string, hint?: string, context?: Record<string, unknown>) =>
  new PmipError(ErrorCodes.badInput, message, hint, context);
