// One undo stack for every multi-step operation (plugin ADD, the runner's start, install): each step that creates
// something registers how to take it back; on failure the steps are undone in reverse, every one attempted.

export type UndoStep = () => unknown;

export class UndoStack {
  private steps: { what: string; undo: UndoStep }[] = [];

  /** Registers `undo` for a step just done; `what` names it in the log when undoing it fails. */
  push(what: string, undo: UndoStep): void {
    this.steps.push({ what, undo });
  }

  get size(): number {
    return this.steps.length;
  }

  /** Forgets every step: the operation succeeded and keeps what it made. */
  commit(): void {
    this.steps = [];
  }

  /**
   * Undoes every registered step in reverse order, awaiting each (sync or async). A failing step does not stop the
   * rest; its error goes to `log` and is returned, so callers can report it next to the original failure.
   */
  async unwind(log: (line: string) => void = () => {}): Promise<Error[]> {
    const failures: Error[] = [];
    const steps = this.steps.reverse();
    this.steps = [];
    for (const { what, undo } of steps) {
      try {
        await undo();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        failures.push(e);
        log(`undo of ${what} failed: ${e.message}`);
      }
    }
    return failures;
  }

  /** Runs `fn` with a fresh stack; when it throws, unwinds the stack and rethrows the original error. */
  static async run<T>(fn: (undo: UndoStack) => Promise<T>, log?: (line: string) => void): Promise<T> {
    const undo = new UndoStack();
    try {
      const out = await fn(undo);
      undo.commit();
      return out;
    } catch (err) {
      await undo.unwind(log);
      throw err;
    }
  }
}
