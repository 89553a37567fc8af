module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'runner',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testTimeout: 120000,
};
