import { MemoryEngine } from './memory-engine';
import { describeEngineContract } from './test-support/engine-contract';

describeEngineContract('MemoryEngine', () => new MemoryEngine());
