/**
 * An error meant for the person at the keyboard: the CLI prints its message alone (no stack trace) and
 * exits with status 2. The message says what is wrong and what to do instead.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** "unknown model 'dcgna' (did you mean 'dcgan'?); valid: vanilla, dcgan" */
export function unknownChoice(what: string, given: string, valid: readonly string[]): UserError {
  const nearest = [...valid].sort((x, y) => editDistance(given, x) - editDistance(given, y))[0];
  const hint = nearest !== undefined && editDistance(given, nearest) <= Math.max(2, given.length / 3) ? ` (did you mean '${nearest}'?)` : '';
  return new UserError(`unknown ${what} '${given}'${hint}; valid: ${valid.join(', ')}`);
}
