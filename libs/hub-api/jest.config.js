module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'hub-api',
  rootDir: __dirname,
  testTimeout: 60000,
};
