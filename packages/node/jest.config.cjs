module.exports = {
  displayName: 'node',
  preset: '../../jest.preset.cjs',
};
