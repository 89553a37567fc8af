// End-to-end: each spec file starts its own stack (PostgreSQL, nats-server -js, the four services as
// processes) and drives it through the gateway's HTTP API and NATS, on the real Docker engine.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'hub-e2e',
  rootDir: __dirname,
  testTimeout: 120000,
  maxWorkers: 1,
};
