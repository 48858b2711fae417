// A warm Auth0 container: the Action's module loaded once and shared by many executions, as Auth0 reuses one.
import { AsyncLocalStorage } from 'node:async_hooks';
import { loadAction, type OnExecutePostLogin } from './run-post-login';

interface Execution {
  logs: string[];
  fetch: typeof fetch;
}

/**
 * Loading an Action costs a fresh V8 context (about 1.6 ms); a load generator starting hundreds of
 * logins a second cannot pay that per login. Each execution still gets its own logs and recorded
 * calls: the module's console and fetch look up the execution they run in.
 */
export class ActionContainer {
  private readonly current = new AsyncLocalStorage<Execution>();
  private readonly handler: OnExecutePostLogin;

  constructor(actionFile: string) {
    const logs = { push: (line: string) => this.current.getStore()?.logs.push(line) };
    const fetchInExecution: typeof fetch = (input, init) => (this.current.getStore()?.fetch ?? fetch)(input, init);
    this.handler = loadAction(actionFile, logs, fetchInExecution);
  }

  /** The handler bound to one execution's logs and fetch. */
  bind(logs: string[], fetchImpl: typeof fetch): OnExecutePostLogin {
    return (event, api) => this.current.run({ logs, fetch: fetchImpl }, () => this.handler(event, api));
  }
}
