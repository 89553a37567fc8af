module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'gateway-http',
  rootDir: __dirname,
  testTimeout: 60000,
};
