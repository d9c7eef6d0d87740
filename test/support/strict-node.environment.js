/**
 * The Node test environment, plus one rule: a promise rejection nobody handled fails the suite.
 * Jest already fails the running test for a rejection raised while it runs; this also catches the
 * ones raised between tests and after the last hook (an app.close() that leaves a rejection behind),
 * which would otherwise kill the worker or go unnoticed.
 */
const { TestEnvironment } = require('jest-environment-node');

/** How long teardown waits for late rejections (a closed socket's last callbacks). */
const SETTLE_MS = 200;

class StrictNodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.rejections = [];
    this.onRejection = (reason) => this.rejections.push(reason);
  }

  async setup() {
    await super.setup();
    process.on('unhandledRejection', this.onRejection);
  }

  async teardown() {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    process.off('unhandledRejection', this.onRejection);
    await super.teardown();
    if (this.rejections.length) {
      const described = this.rejections.map((reason) =>
        reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
      );
      throw new Error(
        `${this.rejections.length} unhandled promise rejection(s) in this suite:\n${described.join('\n')}`,
      );
    }
  }
}

module.exports = StrictNodeEnvironment;
