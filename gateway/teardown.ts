/**
 * Shutdown in reverse order of start-up: each part registers how to stop it as soon as it exists,
 * so a start that fails half-way and a normal stop run the same steps. What a part needs while it
 * stops (the B2BUA's BYEs need the trunks and the transaction layer) was started before it, so it is
 * still up. A failing step is logged and the remaining steps still run.
 */
import type { Logger } from './log/logger';

export class Teardown {
  private readonly steps: Array<{ name: string; run: () => void | Promise<void> }> = [];

  constructor(private readonly log: Logger) {}

  /** Registers the step that stops what was just started. */
  add(name: string, run: () => void | Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Runs every registered step, last registered first; idempotent. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (err) {
        this.log.error('shutdown step failed', { step: step.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
}
