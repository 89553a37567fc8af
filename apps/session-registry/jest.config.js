module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'session-registry',
  rootDir: __dirname,
  testTimeout: 60000,
};
