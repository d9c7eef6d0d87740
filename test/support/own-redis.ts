import { ChildProcess, spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';

/**
 * A redis-server of the test's own, on a free port, for tests that stop Redis (the shared one on
 * 6379 is never stopped). `stop()` ends it the way an operator would (SIGTERM), `kill()` with SIGKILL.
 */
export class OwnRedis {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  /** Picks a free port; the server is not running until start(). */
  static async create(): Promise<OwnRedis> {
    return new OwnRedis(await freePort());
  }

  get options(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  /** Starts (again, on the same port) and resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.child && this.child.exitCode === null)
      throw new Error(`redis-server on port ${this.port} is already running`);
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null)
        throw new Error(`redis-server on port ${this.port} exited`);
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the server and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
