import { describe, expect, it } from 'vitest';
import { GraphCircuit } from './graph-circuit.js';

describe('GraphCircuit', () => {
  it('lets everything through while Meta answers, whatever it answers', () => {
    const circuit = new GraphCircuit({ threshold: 3 });
    for (let i = 0; i < 10; i += 1) expect(circuit.record('reached', i)).toBeNull();
    expect(circuit.admit(50, 0)).toEqual({ count: 50, waitMs: 0 });
  });

  it('opens after `threshold` unreachable sends in a row, and a reached one in between resets the count', () => {
    const circuit = new GraphCircuit({ threshold: 3, initialCooldownMs: 1000 });
    circuit.record('unreachable', 0);
    circuit.record('unreachable', 0);
    circuit.record('reached', 0);
    circuit.record('unreachable', 0);
    circuit.record('unreachable', 0);
    expect(circuit.state).toBe('closed');
    expect(circuit.record('unreachable', 100)).toBe('opened');
    expect(circuit.admit(50, 600)).toEqual({ count: 0, waitMs: 500 });
  });

  it('sends one probe after the cool-down, backs off while probes fail, and closes on the first answer', () => {
    const circuit = new GraphCircuit({ threshold: 1, initialCooldownMs: 1000, maxCooldownMs: 4000 });
    circuit.record('unreachable', 0);
    expect(circuit.admit(50, 1000)).toEqual({ count: 1, waitMs: 0 });
    // Nothing else while the probe is out.
    expect(circuit.admit(50, 1001).count).toBe(0);
    circuit.record('unreachable', 1100); // probe failed: 2 s
    expect(circuit.admit(50, 3000).count).toBe(0);
    expect(circuit.admit(50, 3100).count).toBe(1);
    circuit.record('unreachable', 3100); // 4 s (the cap)
    expect(circuit.admit(50, 7099).count).toBe(0);
    expect(circuit.admit(50, 7100).count).toBe(1);
    circuit.record('unreachable', 7100); // still 4 s
    expect(circuit.admit(50, 11_100).count).toBe(1);
    expect(circuit.record('reached', 11_200)).toBe('closed');
    expect(circuit.admit(50, 11_200)).toEqual({ count: 50, waitMs: 0 });
  });
});
