/**
 * Preloaded (-r) into a child process: the packages named in HIDE_PACKAGES (comma-separated) resolve
 * as if they were not installed, the way a user's app without them would, whatever loads them.
 */
const Module = require('node:module');

const hidden = new Set((process.env.HIDE_PACKAGES ?? '').split(',').filter(Boolean));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const name = request.startsWith('@')
    ? request.split('/').slice(0, 2).join('/')
    : request.split('/')[0];
  if (hidden.has(name)) {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
