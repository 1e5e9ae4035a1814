import { token } from './token';

describe('token', () => {
  it('takes the leading 48 bits of SHA-256', () => {
    // sha256("") = e3b0c44298fc1c14...
    expect(token('')).toBe(0xe3b0c44298fc);
  });
});
