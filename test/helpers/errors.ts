// What a call threw, as [code, message] ([0, ''] when it did not throw): for exact assertions on CniErrors.

export function errorOf(fn: () => unknown): [number, string] {
  try {
    fn();
  } catch (e) {
    return [(e as { code: number }).code, (e as Error).message];
  }
  return [0, ''];
}
