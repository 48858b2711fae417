// Stops whatever a process has started so far, newest first, on SIGTERM, SIGINT or SIGHUP, at any moment.
import type { Logger } from 'pino';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
const PARENT_CHECK_MS = 500;

interface Step {
  name: string;
  run(): Promise<void> | void;
}

export interface ShutdownOptions {
  /** The exit code after a clean stop on a signal: 0 for the server, 128 + n (the shell's convention) by default. */
  exitCodeOnSignal?: (signal: NodeJS.Signals) => number;
  /** After this long the process exits with 1 whatever is still running. */
  graceMs?: number;
}

/**
 * One per process. Each part registers how to stop itself as soon as it has started (the embedded
 * Postgres registers itself before it spawns), so that a signal during start-up stops exactly what
 * exists. Steps run in reverse order of registration, one after the other.
 */
class ProcessShutdown {
  private steps: Step[] = [];
  private installed = false;
  private running: Promise<void> | undefined;
  private logger: Logger | undefined;
  private options: Required<ShutdownOptions> = { exitCodeOnSignal: (signal) => 128 + SIGNAL_NUMBERS[signal as (typeof SIGNALS)[number]], graceMs: 15_000 };

  get stopping(): boolean {
    return this.running !== undefined;
  }

  /** Installs the signal handlers (once; later calls only change the options) and the parent watch. */
  install(options: ShutdownOptions = {}): this {
    this.options = { ...this.options, ...options };
    if (this.installed) return this;
    this.installed = true;
    for (const signal of SIGNALS) process.on(signal, () => this.onSignal(signal));
    watchNpmParent(() => void this.stop('the parent npm process exited', 0));
    return this;
  }

  useLogger(logger: Logger): void {
    this.logger = logger.child({ module: 'shutdown' });
  }

  /** Registers a step; the returned function removes it (when the part stopped by itself). */
  add(name: string, run: Step['run']): () => void {
    const step = { name, run };
    this.steps.push(step);
    return () => {
      this.steps = this.steps.filter((other) => other !== step);
    };
  }

  /** Runs every step, newest first, then exits with `exitCode`. Later calls wait for the first. */
  stop(reason: string, exitCode: number): Promise<void> {
    this.running ??= this.runSteps(reason, exitCode);
    return this.running;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.stopping) {
      // Ctrl-C reaches node twice: from the terminal (to the whole process group) and from npm,
      // which passes it on. The repeat is expected, not news.
      this.logger?.debug({ signal }, 'already shutting down');
      return;
    }
    void this.stop(signal, this.options.exitCodeOnSignal(signal));
  }

  private async runSteps(reason: string, exitCode: number): Promise<void> {
    this.logger?.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      this.logger?.error({ graceMs: this.options.graceMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, this.options.graceMs);
    force.unref();
    let failed = false;
    for (const step of [...this.steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        failed = true;
        this.logger?.error({ err: error, step: step.name }, 'a shutdown step failed');
      }
    }
    this.steps = [];
    this.logger?.info('stopped');
    process.exit(failed && exitCode === 0 ? 1 : exitCode);
  }
}

/**
 * npm does not pass SIGHUP on, and a SIGKILL to npm reaches nobody. Started by `npm run` (whose
 * scripts `exec` node, so npm is our parent), a new parent means npm is gone: nobody would stop us.
 * Run directly (a process manager, nohup) there is no such watch.
 */
function watchNpmParent(onGone: () => void): void {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}

export const processShutdown = new ProcessShutdown();
