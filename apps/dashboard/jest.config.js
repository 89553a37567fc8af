// The dashboard's pure parts (stream readers, URL state, the DAG's layout, formatting): unit specs in
// node. Its pages are tried in a real browser by apps/hub-e2e/src/dashboard.e2e.spec.ts.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'dashboard',
  rootDir: __dirname,
};
