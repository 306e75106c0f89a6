export async function monitorMain(_a: string[]): Promise<number> { return 1; }
