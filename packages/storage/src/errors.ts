// Errors a user can act on. The CLIs print `message` alone (no stack) and exit 125.
export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: string;

  constructor(message: string, code = 'PKIT_STORE') {
    super(message);
    this.code = code;
  }
}

/** The user's input is wrong (a flag, a file, a Containerfile): the message names the fix. */
export function badInput(message: string): StoreError {
  return new StoreError(message, 'PKIT_BAD_INPUT');
}

/** A failure that ends the command with its own exit status (podman's 126, a RUN's status). */
export class ExitStatusError extends StoreError {
  override name = 'ExitStatusError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number, code = 'PKIT_EXIT_STATUS') {
    super(message, code);
    this.exitCode = exitCode;
  }
}

export class NotFoundError extends StoreError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 'PKIT_NOT_FOUND');
  }
}

export class DigestMismatchError extends StoreError {
  override name = 'DigestMismatchError';
  constructor(message: string) {
    super(message, 'PKIT_DIGEST_MISMATCH');
  }
}

export class LayerSecurityError extends StoreError {
  override name = 'LayerSecurityError';
  constructor(message: string) {
    super(message, 'PKIT_LAYER_UNSAFE');
  }
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
