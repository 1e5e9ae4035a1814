module.exports = {
  displayName: 'ring',
  preset: '../../jest.preset.cjs',
};
