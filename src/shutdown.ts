/**
 * How the app stops: its resources are closed in the reverse order they were registered (the
 * last one built, the first one closed — fastify's `onClose` model), each one even if an
 * earlier one failed or hung, and all of it within one deadline. A step that fails is logged
 * and the next runs; a step still running when the deadline comes is logged and left behind,
 * so that a stuck peer (a webhook, a database) can never keep the process from exiting.
 */
import { performance } from 'node:perf_hooks';

export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Step {
  name: string;
  close: () => Promise<void>;
}

export class ShutdownSequence {
  private readonly steps: Step[] = [];
  private running: Promise<boolean> | undefined;

  constructor(private readonly logger: ShutdownLogger) {}

  /** Registers a resource to close; later ones close first. */
  add(name: string, close: () => Promise<void>): void {
    this.steps.push({ name, close });
  }

  /**
   * Closes everything, last registered first, within `deadlineMs`. Resolves true when every
   * step finished cleanly, false when one failed or was cut off by the deadline. Idempotent:
   * a second call gets the first one's outcome.
   */
  run(deadlineMs: number): Promise<boolean> {
    this.running ??= this.closeAll(deadlineMs);
    return this.running;
  }

  private async closeAll(deadlineMs: number): Promise<boolean> {
    const end = performance.now() + deadlineMs;
    let clean = true;
    for (const step of [...this.steps].reverse()) {
      const left = end - performance.now();
      let timer: NodeJS.Timeout | undefined;
      const cutOff = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, left))));
      try {
        const outcome = await Promise.race([step.close().then(() => 'done' as const), cutOff]);
        if (outcome === 'late') {
          clean = false;
          this.logger.warn({ step: step.name, deadlineMs }, `shutdown: ${step.name} did not finish before the deadline; going on without it`);
        }
      } catch (error) {
        clean = false;
        this.logger.error({ err: error, step: step.name }, `shutdown: ${step.name} failed to close; going on`);
      } finally {
        clearTimeout(timer);
      }
    }
    return clean;
  }
}
