export { default } from '../../eslint.package.mjs';
