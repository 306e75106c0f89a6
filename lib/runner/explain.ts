// `tscni explain`: placeholder replaced below.
export async function explainCommand(_c: unknown, _a: string[], _o: (s: string) => void): Promise<number> { return 1; }
