import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lambdas/core/seeded-random';
import {
  FaultController,
  InvalidFaultSettingsError,
  NO_FAULTS,
  parseFaultSettings,
} from '../../local/standins/faults/fault-controller';

describe('Class: FaultController', () => {
  describe('Method: decide', () => {
    it('passes every call untouched when no fault is set', () => {
      // Prepare
      const faults = new FaultController();

      // Act
      const decisions = Array.from({ length: 100 }, () => faults.decide('SendMessage'));

      // Assess
      expect(decisions.every((d) => d.kind === 'pass' && d.delayMs === 0 && !d.dropResponse)).toBe(true);
      expect(Object.values(faults.stats()).every((count) => count === 0)).toBe(true);
    });

    it('answers every call "down" while the service is down, whatever the other rates', () => {
      // Prepare
      const faults = new FaultController();
      faults.set({ down: true, throttleRate: 1 });

      // Act
      const decision = faults.decide('ReceiveMessage');

      // Assess
      expect(decision.kind).toBe('down');
      expect(faults.stats().down).toBe(1);
    });

    it('fails about the configured share of calls with a throttling error', () => {
      // Prepare
      const faults = new FaultController(seededRandom(7));
      faults.set({ throttleRate: 0.3 });

      // Act
      const throttled = Array.from({ length: 2_000 }, () => faults.decide('SendMessage')).filter(
        (d) => d.kind === 'throttle',
      ).length;

      // Assess
      expect(throttled).toBeGreaterThan(500);
      expect(throttled).toBeLessThan(700);
      expect(faults.stats().throttled).toBe(throttled);
    });

    it('affects only the listed operations when operations are given', () => {
      // Prepare
      const faults = new FaultController();
      faults.set({ errorRate: 1, operations: ['SendMessageBatch'] });

      // Act
      const batch = faults.decide('SendMessageBatch');
      const receive = faults.decide('ReceiveMessage');

      // Assess
      expect(batch.kind).toBe('error');
      expect(receive.kind).toBe('pass');
    });

    it('marks a passing call for a dropped response and carries the delay', () => {
      // Prepare
      const faults = new FaultController();
      faults.set({ dropResponseRate: 1, delayMs: 250 });

      // Act
      const decision = faults.decide('PutRecordBatch');

      // Assess
      expect(decision).toEqual({ kind: 'pass', delayMs: 250, dropResponse: true });
      expect(faults.stats()).toMatchObject({ droppedResponses: 1, delayed: 1 });
    });

    it('makes the same decisions again for the same seed', () => {
      // Prepare
      const first = new FaultController();
      const second = new FaultController();
      first.set({ errorRate: 0.5, seed: 42 });
      second.set({ errorRate: 0.5, seed: 42 });

      // Act
      const a = Array.from({ length: 50 }, () => first.decide('X').kind);
      const b = Array.from({ length: 50 }, () => second.decide('X').kind);

      // Assess
      expect(a).toEqual(b);
      expect(new Set(a)).toEqual(new Set(['pass', 'error']));
    });
  });

  describe('Method: set / reset', () => {
    it('merges partial updates and resets to no faults', () => {
      // Prepare
      const faults = new FaultController();

      // Act
      faults.set({ delayMs: 100 });
      const merged = faults.set({ errorRate: 0.2 });
      const reset = faults.reset();

      // Assess
      expect(merged).toMatchObject({ delayMs: 100, errorRate: 0.2 });
      expect(reset).toEqual(NO_FAULTS);
    });
  });
});

describe('Function: parseFaultSettings', () => {
  it.each([
    [{ errorRate: 1.5 }, 'errorRate must be a number from 0 to 1'],
    [{ down: 'yes' }, 'down must be true or false'],
    [{ delayMs: -1 }, 'delayMs must be a number of milliseconds'],
    [{ operations: 'SendMessage' }, 'operations must be an array'],
    [{ explode: true }, 'unknown fault setting "explode"'],
    [[], 'fault settings must be a JSON object'],
  ])('rejects %j', (input, message) => {
    expect(() => parseFaultSettings(input)).toThrow(InvalidFaultSettingsError);
    expect(() => parseFaultSettings(input)).toThrow(message);
  });
});
