import { completeLine } from './completion';

describe('completeLine', () => {
  it('completes command names, keeping the case being typed', () => {
    expect(completeLine('ge')).toEqual([['get '], 'ge']);
    expect(completeLine('GE')).toEqual([['GET '], 'GE']);
    expect(completeLine('li')).toEqual([['list_nodes '], 'li']);
    expect(completeLine('he')).toEqual([['help'], 'he']);
    expect(completeLine('  De')).toEqual([['DELETE '], 'De']);
  });

  it('offers every command for an empty line and several for an ambiguous start', () => {
    expect(completeLine('')).toEqual([['PUT', 'GET', 'DELETE', 'LIST_NODES', 'HELP', 'EXIT'], '']);
    expect(completeLine('e')).toEqual([['exit'], 'e']);
    expect(completeLine('DE')).toEqual([['DELETE '], 'DE']);
  });

  it('offers nothing after the command or for an unknown start', () => {
    expect(completeLine('GET us')).toEqual([[], 'GET us']);
    expect(completeLine('x')).toEqual([[], 'x']);
  });
});
