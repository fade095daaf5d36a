/**
 * What the store refuses, in its own words. The store knows nothing of EC2's error codes (it
 * sits below the rules): cloud/errors.ts turns each of these into the EC2 error a client gets.
 */

export class StoreError extends Error {}

/** A Describe filter name the resource's filter spec does not know. */
export class UnknownFilterError extends StoreError {
  constructor(readonly filterName: string) {
    super(`unknown filter ${JSON.stringify(filterName)}`);
    this.name = 'UnknownFilterError';
  }
}

/** A NextToken the store did not make (or one it cannot read). */
export class InvalidPageTokenError extends StoreError {
  constructor(readonly token: string) {
    super('invalid page token');
    this.name = 'InvalidPageTokenError';
  }
}

/** A shared store gave up on a transaction that kept losing races with concurrent ones. */
export class TransactionRetriesExhaustedError extends StoreError {
  constructor(readonly attempts: number) {
    super(`the transaction lost ${attempts} races with concurrent ones`);
    this.name = 'TransactionRetriesExhaustedError';
  }
}

/**
 * The store cannot be reached (the database is down, restarting, or the connection broke). The
 * transaction did not commit — or, when the connection broke during the commit itself, its outcome
 * is unknown, as for any client of a database; either way nothing was applied by halves.
 */
export class StoreUnavailableError extends StoreError {
  constructor(readonly reason: string) {
    super(`the database is unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}
