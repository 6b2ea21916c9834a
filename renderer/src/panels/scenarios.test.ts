import { describe, expect, it } from 'vitest';
import { SCENARIOS as LAB_SCENARIOS } from '../../../app/scenarios/scenarios.ts';
import { SCENARIOS } from './Scenarios.tsx';

// The renderer cannot import the lab's runtime code, so it lists the scenarios itself:
// this keeps that list the lab's.
describe('the scenarios panel', () => {
  it('offers exactly the lab\'s scenarios, in its order', () => {
    expect(SCENARIOS.map((s) => s.name)).toEqual(LAB_SCENARIOS.map((s) => s.name));
  });
});
