import { InvalidUsersError } from './errors';
import { UserTable, hashPassword, parseUsers, type User } from './users';

describe('parseUsers', () => {
  it('reads name, permission and a plain or hashed password per line, skipping comments', () => {
    const hash = hashPassword('s3cret').toString('hex');
    const users = parseUsers(
      [
        '# operators',
        '',
        'alice admin >correct horse battery staple',
        `bob read-only #${hash}`,
        '  carol   read-write   >pw  ',
      ].join('\n'),
    );
    expect(users.map((u) => [u.name, u.permission])).toEqual([
      ['alice', 'admin'],
      ['bob', 'read-only'],
      ['carol', 'read-write'],
    ]);
    const table = new UserTable(users);
    expect(table.verify('alice', 'correct horse battery staple')?.name).toBe('alice');
    expect(table.verify('bob', 's3cret')?.permission).toBe('read-only');
    expect(table.verify('carol', 'pw')?.name).toBe('carol');
  });

  it.each([
    ['alice admin', /line 1: expected 'name permission password'/],
    ['alice owner >pw', /line 1: permission must be one of read-only, read-write, admin/],
    ['alice admin pw', /line 1: the password must start with '>'/],
    ['alice admin >', /line 1: the password after '>' is empty/],
    ['alice admin #abc', /line 1: '#' must be followed by the 64 hex digits/],
    ['a admin >x\n\na read-only >y', /line 3: user 'a' is named twice/],
  ])('refuses %j', (text, message) => {
    expect(() => parseUsers(text, 'users.txt')).toThrow(InvalidUsersError);
    expect(() => parseUsers(text, 'users.txt')).toThrow(message);
  });
});

describe('UserTable.verify', () => {
  const table = new UserTable(parseUsers('alice read-write >right'));

  it('refuses a wrong password, an unknown user and an empty password', () => {
    expect(table.verify('alice', 'wrong')).toBeUndefined();
    expect(table.verify('alice', 'righ')).toBeUndefined();
    expect(table.verify('mallory', 'right')).toBeUndefined();
    expect(table.verify('alice', '')).toBeUndefined();
    expect(table.verify('alice', Buffer.from('right'))?.name).toBe('alice');
  });

  it('refuses a user configured twice', () => {
    const [alice] = parseUsers('alice read-write >a') as [User];
    expect(() => new UserTable([alice, alice])).toThrow(/'alice' is configured twice/);
  });
});
