// `tscni load`: placeholder replaced below.
export async function loadCommand(_c: unknown, _a: string[], _o: (s: string) => void): Promise<number> { return 1; }
