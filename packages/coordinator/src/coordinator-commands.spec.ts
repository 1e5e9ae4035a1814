import {
  AccessControl,
  ReplyError,
  SimpleString,
  type Reply,
  type ServerConnection,
} from '@kv/protocol';
import { Ring } from '@kv/ring';
import {
  COORDINATOR_COMMANDS as COMMANDS,
  createCoordinatorRouter,
  type CommandContext,
} from './coordinator-commands';
import { Membership, type MembershipChange } from './membership';

let t: number;
let membership: Membership;
let committed: MembershipChange[];
let context: CommandContext;

beforeEach(() => {
  t = 0;
  membership = new Membership({ now: () => t });
  committed = [];
  context = {
    membership,
    commit: (change) => {
      committed.push(change);
      return Promise.resolve();
    },
    info: () => '# Coordinator\r\nepoch:0\r\n',
    access: new AccessControl(),
  };
});

const router = createCoordinatorRouter();
const connection: ServerConnection = {
  id: 1,
  remoteAddress: '127.0.0.1:40000',
  readPath: 'stream',
  locals: {},
  close: () => undefined,
  priority: false,
  prioritize: () => undefined,
};

function dispatch(args: Buffer[]): Reply | Promise<Reply> {
  return router.dispatch(args, context, connection);
}

/** Runs a command as the server would and returns its reply (errors as ReplyError). */
async function call(...args: string[]): Promise<Reply> {
  try {
    return await dispatch(args.map((a) => Buffer.from(a)));
  } catch (err) {
    if (err instanceof ReplyError) return err;
    throw err;
  }
}

async function errorOf(...args: string[]): Promise<string> {
  const reply = await call(...args);
  if (!(reply instanceof ReplyError)) throw new Error(`expected an error, got ${String(reply)}`);
  return reply.message;
}

describe('dispatch', () => {
  it('matches command names in any case', async () => {
    expect(await call('ping')).toEqual(new SimpleString('PONG'));
    expect(await call('Register_Node', '127.0.0.1', '5001')).toEqual(['127.0.0.1:5001', 1]);
  });

  it('answers an unknown command as Redis does', async () => {
    expect(await errorOf('FLUSHALL')).toBe("ERR unknown command 'FLUSHALL'");
    expect(await errorOf('constructor')).toBe("ERR unknown command 'constructor'");
    expect(await errorOf('x'.repeat(1000))).toBe(`ERR unknown command '${'x'.repeat(61)}...'`);
  });

  const tooFew: [string, string[]][] = [
    ['REGISTER_NODE', ['127.0.0.1']],
    ['HEARTBEAT', ['127.0.0.1']],
    ['UNREGISTER_NODE', []],
    ['GET_NODES_FOR_KEY', []],
    ['CONFIG', []],
  ];
  const tooMany: [string, string[]][] = [
    ['REGISTER_NODE', ['h', '1', 'ZONE', 'a', 'WEIGHT', '1', 'JOINING', 'X']],
    ['HEARTBEAT', ['h', '1', 'x']],
    ['UNREGISTER_NODE', ['h', '1', 'x']],
    ['GET_NODES_FOR_KEY', ['a', 'b']],
    ['LIST_NODES', ['ALL', 'x']],
    ['RING', ['1', 'x']],
    ['PING', ['a', 'b']],
    ['INFO', ['a', 'b']],
  ];
  it.each([...tooFew, ...tooMany])(
    'answers %s with a wrong number of arguments with WRONGARGS and usage',
    async (name, args) => {
      const usage = COMMANDS[name as keyof typeof COMMANDS].usage;
      expect(await errorOf(name.toLowerCase(), ...args)).toBe(
        `WRONGARGS wrong number of arguments for '${name.toLowerCase()}': usage ${usage}`,
      );
    },
  );

  it('lets an unexpected exception through for the server to answer and report', () => {
    jest.spyOn(membership, 'list').mockImplementation(() => {
      throw new TypeError('bug');
    });
    expect(() => dispatch([Buffer.from('LIST_NODES')])).toThrow('bug');
  });
});

describe('REGISTER_NODE', () => {
  it('answers [id, epoch] and commits the join', async () => {
    expect(await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a', 'WEIGHT', '2')).toEqual([
      '127.0.0.1:5001',
      1,
    ]);
    expect(committed.map((c) => [c.kind, c.member])).toEqual([
      ['joined', { id: '127.0.0.1:5001', zone: 'a', weight: 2 }],
    ]);
  });

  it('takes the options in any order and case', async () => {
    await call('REGISTER_NODE', 'node-1.example', '5001', 'weight', '0.5', 'zone', 'eu-west-1a');
    expect(membership.ring.member('node-1.example:5001')).toEqual({
      id: 'node-1.example:5001',
      zone: 'eu-west-1a',
      weight: 0.5,
    });
  });

  it('refreshes an unchanged member without committing anything', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a');
    expect(await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a')).toEqual([
      '127.0.0.1:5001',
      1,
    ]);
    expect(committed).toHaveLength(1);
    expect(await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'b')).toEqual([
      '127.0.0.1:5001',
      2,
    ]);
    expect(committed.map((c) => c.kind)).toEqual(['joined', 'updated']);
  });

  it.each(['0', '65536', '70000', '-1', '+5001', '5001x', '50.1', '0x10', '', ' 5001', '123456'])(
    'rejects port %j',
    async (port) => {
      expect(await errorOf('REGISTER_NODE', '127.0.0.1', port)).toMatch(
        /^WRONGARGS invalid port '.*': expected an integer from 1 to 65535$/,
      );
    },
  );

  it.each(['1', '65535', '05001'])('accepts port %j', async (port) => {
    expect(await call('REGISTER_NODE', '127.0.0.1', port)).toEqual([
      `127.0.0.1:${Number(port)}`,
      1,
    ]);
  });

  it.each([
    '0',
    '-1',
    '0.0',
    'abc',
    'Infinity',
    'NaN',
    '1e999',
    '',
    '1,5',
    '0x2',
    '100.5',
    '1e9',
    '3000',
  ])('rejects weight %j', async (weight) => {
    expect(await errorOf('REGISTER_NODE', '127.0.0.1', '5001', 'WEIGHT', weight)).toMatch(
      /^WRONGARGS invalid weight '.*': expected a number greater than 0 and at most 100$/,
    );
    expect(await call('LIST_NODES')).toEqual([]);
  });

  it.each([
    ['1.5', 1.5],
    ['.25', 0.25],
    ['2e1', 20],
    ['3.', 3],
    ['100', 100],
  ])('accepts weight %j', async (text, weight) => {
    await call('REGISTER_NODE', '127.0.0.1', '5001', 'WEIGHT', text);
    expect(membership.ring.member('127.0.0.1:5001')?.weight).toBe(weight);
  });

  it.each([
    [
      ['127.0.0.1', '5001', 'RACK', 'a'],
      "WRONGARGS unknown option 'RACK': REGISTER_NODE takes ZONE zone, WEIGHT weight and JOINING",
    ],
    [['127.0.0.1', '5001', 'ZONE'], 'WRONGARGS ZONE needs a value'],
    [['127.0.0.1', '5001', 'ZONE', 'a', 'weight'], 'WRONGARGS WEIGHT needs a value'],
    [['127.0.0.1', '5001', 'ZONE', 'a', 'zone', 'b'], 'WRONGARGS ZONE given twice'],
    [
      ['', '5001'],
      "WRONGARGS invalid host '': expected 1 to 255 bytes without spaces or control characters",
    ],
    [
      ['a b', '5001'],
      "WRONGARGS invalid host 'a b': expected 1 to 255 bytes without spaces or control characters",
    ],
    [['a\r\nb', '5001'], 'WRONGARGS invalid host'],
    [['h'.repeat(256), '5001'], 'WRONGARGS invalid host'],
    [['127.0.0.1', '5001', 'ZONE', 'us east'], "WRONGARGS invalid zone 'us east'"],
  ])('rejects %j', async (args, message) => {
    expect(await errorOf('REGISTER_NODE', ...args)).toContain(message);
    expect(membership.epoch).toBe(0);
    expect(committed).toEqual([]);
  });

  it('answers ERR when the weight would make the ring too large', async () => {
    // 100 × 65,536 virtual nodes is past the ring's limit of 2^22.
    membership = new Membership({ now: () => t, ring: { vnodesPerWeight: 65_536 } });
    context = { ...context, membership };
    expect(await errorOf('REGISTER_NODE', '127.0.0.1', '5001', 'WEIGHT', '100')).toMatch(
      /^ERR cannot register 127\.0\.0\.1:5001: the ring would have \d+ virtual nodes/,
    );
    expect(membership.ring.size).toBe(0);
  });
});

describe('HEARTBEAT and UNREGISTER_NODE', () => {
  it('answers a heartbeat with the current epoch', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    await call('REGISTER_NODE', '127.0.0.1', '5002');
    t = 700;
    expect(await call('HEARTBEAT', '127.0.0.1', '5001')).toBe(2);
    expect(membership.list()[0]?.heartbeatAgeMs).toBe(0);
  });

  it('answers NOTREGISTERED for a node it does not know', async () => {
    expect(await errorOf('HEARTBEAT', '127.0.0.1', '5001')).toBe(
      'NOTREGISTERED node 127.0.0.1:5001 is not registered: send REGISTER_NODE',
    );
    expect(await errorOf('UNREGISTER_NODE', '127.0.0.1', '5001')).toBe(
      'NOTREGISTERED node 127.0.0.1:5001 is not registered: send REGISTER_NODE',
    );
    expect(await errorOf('HEARTBEAT', '127.0.0.1', 'x')).toMatch(/^WRONGARGS invalid port/);
  });

  it('removes a leaving node and commits the leave', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    expect(await call('UNREGISTER_NODE', '127.0.0.1', '5001')).toEqual(new SimpleString('OK'));
    expect(membership.ring.size).toBe(0);
    expect(membership.epoch).toBe(2);
    expect(committed.map((c) => c.kind)).toEqual(['joined', 'left']);
  });
});

describe('GET_NODES_FOR_KEY', () => {
  it('answers UNAVAILABLE while no node is registered', async () => {
    expect(await errorOf('GET_NODES_FOR_KEY', 'user:1')).toBe('UNAVAILABLE no nodes registered');
  });

  it("answers the key's preference list: primary, then replicas", async () => {
    for (const port of ['5001', '5002', '5003', '5004']) {
      await call('REGISTER_NODE', '127.0.0.1', port);
    }
    const ring = new Ring(['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003', '127.0.0.1:5004']);
    for (const key of ['user:1', 'user:2', '', 'ключ']) {
      const reply = await call('GET_NODES_FOR_KEY', key);
      expect(reply).toEqual(ring.preferenceList(key));
      expect(reply).toHaveLength(3);
    }
  });

  it('answers all members when there are fewer than the replication factor', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    expect(await call('GET_NODES_FOR_KEY', 'k')).toEqual(['127.0.0.1:5001']);
  });
});

describe('LIST_NODES', () => {
  it('answers [id, state, zone, weight, heartbeat age] per member, sorted by id', async () => {
    expect(await call('LIST_NODES')).toEqual([]);
    await call('REGISTER_NODE', '127.0.0.1', '5002', 'WEIGHT', '1.5');
    t = 100;
    await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a');
    t = 350.4;
    expect(await call('LIST_NODES')).toEqual([
      ['127.0.0.1:5001', 'up', 'a', '1', 250],
      ['127.0.0.1:5002', 'up', '', '1.5', 350],
    ]);
  });

  it('lists remembered dead members only with ALL', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    await call('REGISTER_NODE', '127.0.0.1', '5002');
    t = 10;
    membership.markDead('127.0.0.1:5001');
    t = 30;
    expect(await call('LIST_NODES')).toEqual([['127.0.0.1:5002', 'up', '', '1', 30]]);
    expect(await call('LIST_NODES', 'all')).toEqual([
      ['127.0.0.1:5001', 'dead', '', '1', 30],
      ['127.0.0.1:5002', 'up', '', '1', 30],
    ]);
    expect(await errorOf('LIST_NODES', 'DEAD')).toBe(
      "WRONGARGS unknown option 'DEAD': LIST_NODES takes only ALL",
    );
  });
});

describe('RING', () => {
  it('answers [epoch, ring JSON] from which the same ring can be rebuilt', async () => {
    expect(await call('RING')).toEqual([0, JSON.stringify(new Ring().toJSON())]);
    await call('REGISTER_NODE', '127.0.0.1', '5001', 'ZONE', 'a');
    await call('REGISTER_NODE', '127.0.0.1', '5002', 'ZONE', 'b', 'WEIGHT', '2');
    const [epoch, json] = (await call('RING')) as [number, string];
    expect(epoch).toBe(2);
    expect(Ring.fromJSON(JSON.parse(json)).equals(membership.ring)).toBe(true);
  });

  it('answers RING known-epoch with the epoch alone while it is current, else in full', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    expect(await call('RING', '1')).toEqual([1]);
    expect(await call('RING', '0')).toEqual([1, JSON.stringify(membership.ring.toJSON())]);
    await call('REGISTER_NODE', '127.0.0.1', '5002');
    expect(await call('RING', '1')).toEqual([2, JSON.stringify(membership.ring.toJSON())]);
  });

  it('adds the target ring while a node is joining', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    await call('REGISTER_NODE', '127.0.0.1', '5002', 'joining');
    expect(await call('RING')).toEqual([
      2,
      JSON.stringify(membership.ring.toJSON()),
      JSON.stringify(membership.target.toJSON()),
    ]);
    expect(membership.target.size).toBe(2);
    expect(await call('NODE_READY', '127.0.0.1', '5002')).toBe(3);
    expect(await call('RING')).toEqual([3, JSON.stringify(membership.ring.toJSON())]);
    expect(committed.map((c) => c.kind)).toEqual(['joined', 'joining', 'joined']);
  });

  it('rejects a known epoch that is not an integer', async () => {
    expect(await errorOf('RING', 'soon')).toBe(
      "WRONGARGS RING known-epoch must be an integer, got 'soon'",
    );
  });
});

describe('PING, INFO, COMMAND, CONFIG', () => {
  it('answers PING with PONG, or with its argument', async () => {
    expect(await call('PING')).toEqual(new SimpleString('PONG'));
    expect(await call('PING', 'hello world')).toEqual(Buffer.from('hello world'));
  });

  it('answers INFO with the info text, whatever the section', async () => {
    expect(await call('INFO')).toBe('# Coordinator\r\nepoch:0\r\n');
    expect(await call('INFO', 'server')).toBe('# Coordinator\r\nepoch:0\r\n');
  });

  it('answers COMMAND and CONFIG GET with empty arrays, as redis-cli expects on start', async () => {
    expect(await call('COMMAND')).toEqual([]);
    expect(await call('COMMAND', 'DOCS')).toEqual([]);
    expect(await call('CONFIG', 'get', 'save')).toEqual([]);
    expect(await errorOf('CONFIG', 'SET', 'save', '')).toBe(
      "ERR unknown subcommand 'SET': try CONFIG GET",
    );
  });
});

describe('HELP', () => {
  it('lists every command with its scope, membership changes as admin', async () => {
    const lines = (await call('HELP')) as string[];
    expect(lines).toContain('HEARTBEAT host port  (admin)');
    expect(lines).toContain('RING [known-epoch]  (client)');
    expect(lines).toHaveLength(Object.keys(COMMANDS).length + 2);
    expect(await call('HELP', 'heartbeat')).toEqual([
      'HEARTBEAT host port  (admin)',
      'reply: integer: the current epoch',
      'errors: -NOTREGISTERED node <id> is not registered: send REGISTER_NODE',
    ]);
  });
});

describe('LEAVING and NODE_READY', () => {
  it('moves a member to leaving once, answering the epoch', async () => {
    await call('REGISTER_NODE', '127.0.0.1', '5001');
    await call('REGISTER_NODE', '127.0.0.1', '5002');
    expect(await call('LEAVING', '127.0.0.1', '5002')).toBe(3);
    expect(await call('LEAVING', '127.0.0.1', '5002')).toBe(3);
    expect(membership.phase('127.0.0.1:5002')).toBe('leaving');
    expect(committed.map((c) => c.kind)).toEqual(['joined', 'joined', 'leaving']);
  });

  it('answers a node that is not a member with NOTREGISTERED', async () => {
    expect(await errorOf('LEAVING', '127.0.0.1', '5009')).toMatch(/^NOTREGISTERED /);
    expect(await errorOf('NODE_READY', '127.0.0.1', '5009')).toMatch(/^NOTREGISTERED /);
  });

  it('rejects JOINING given twice', async () => {
    expect(await errorOf('REGISTER_NODE', '127.0.0.1', '5001', 'JOINING', 'joining')).toBe(
      'WRONGARGS JOINING given twice',
    );
  });
});

describe('FORWARD', () => {
  it('runs the membership change it carries, as sent to the leader by a follower', async () => {
    expect(await call('FORWARD', 'REGISTER_NODE', '127.0.0.1', '5001')).toEqual([
      '127.0.0.1:5001',
      1,
    ]);
    expect(await call('FORWARD', 'heartbeat', '127.0.0.1', '5001')).toBe(1);
    expect(committed.map((c) => c.kind)).toEqual(['joined']);
  });

  it('carries nothing but membership changes, each with its own arity', async () => {
    expect(await errorOf('FORWARD', 'GET_NODES_FOR_KEY', 'k')).toMatch(
      /^ERR FORWARD carries only REGISTER_NODE, HEARTBEAT, UNREGISTER_NODE, NODE_READY, LEAVING, not 'GET_NODES_FOR_KEY'$/,
    );
    expect(await errorOf('FORWARD', 'FORWARD', 'HEARTBEAT', 'h', '1')).toMatch(
      /^ERR FORWARD carries only/,
    );
    expect(await errorOf('FORWARD', 'HEARTBEAT', '127.0.0.1')).toBe(
      "WRONGARGS wrong number of arguments for 'HEARTBEAT': usage HEARTBEAT host port",
    );
    expect(membership.epoch).toBe(0);
  });

  it('is refused by a coordinator that does not lead, which never forwards it further', async () => {
    const route = jest.fn();
    context = {
      ...context,
      leadership: {
        route,
        assertLeads: () => {
          throw new ReplyError('UNAVAILABLE this coordinator does not lead');
        },
      },
    };
    expect(await errorOf('FORWARD', 'REGISTER_NODE', '127.0.0.1', '5001')).toBe(
      'UNAVAILABLE this coordinator does not lead',
    );
    expect(route).not.toHaveBeenCalled();
    expect(membership.epoch).toBe(0);
  });

  it('membership changes sent to a follower get the leader reply; reads are answered here', async () => {
    const route = jest.fn(() => Promise.resolve([Buffer.from('127.0.0.1:5001'), 7]));
    context = { ...context, leadership: { route, assertLeads: () => undefined } };
    expect(await call('REGISTER_NODE', '127.0.0.1', '5001')).toEqual([
      Buffer.from('127.0.0.1:5001'),
      7,
    ]);
    expect(route).toHaveBeenCalledTimes(1);
    expect(membership.epoch).toBe(0);
    expect(await call('LIST_NODES')).toEqual([]);
    expect(route).toHaveBeenCalledTimes(1);
  });
});
