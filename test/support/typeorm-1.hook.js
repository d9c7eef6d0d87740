/**
 * Preloaded (NODE_OPTIONS=--require) into the processes tests start when ETLIFY_TYPEORM=1, so a
 * worker, the CLI or the sample run on TypeORM 1.x too; inside Jest, moduleNameMapper does this.
 */
const Module = require('node:module');
const { join } = require('node:path');

const target = join(__dirname, '..', '..', 'node_modules', 'typeorm-1');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'typeorm' || request.startsWith('typeorm/'))
    request = target + request.slice('typeorm'.length);
  return resolve.call(this, request, ...rest);
};
