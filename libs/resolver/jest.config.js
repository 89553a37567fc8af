module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'resolver',
  rootDir: __dirname,
  testTimeout: 60000,
};
