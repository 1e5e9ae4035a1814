module.exports = {
  displayName: 'coordinator',
  preset: '../../jest.preset.cjs',
};
