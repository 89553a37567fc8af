module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'hub-cli',
  rootDir: __dirname,
};
