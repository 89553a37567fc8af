module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'runner',
  rootDir: __dirname,
  testTimeout: 120000,
};
