/** A setting (environment variable or flag) that cannot be used; exit code 2. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** A lake invariant that does not hold; verify exits 1 with it. */
export class InvariantError extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`invariant "${invariant}" failed: ${message}`);
    this.name = 'InvariantError';
  }
}
