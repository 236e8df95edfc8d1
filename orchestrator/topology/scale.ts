// Generated topologies of any size, for benchmarks and scale tests.

/**
 * A domain of n nodes: 1 LMA, 1 CN, n/5 MAGs (at least 2), the rest MNs
 * spread over the MAGs. With l2Move netns (the default here) that is exactly
 * n namespaces; bridge mode adds an air namespace per MN.
 */
export function scaleTopology(n: number, l2Move: 'netns' | 'bridge' = 'netns'): string {
  const mags = Math.max(2, Math.floor(n / 5));
  const mns = n - 2 - mags;
  const lines = [`name: scale${n}`, 'topology:', '  nodes:', '    lma1: { kind: lma }', '    cn1: { kind: cn }'];
  for (let i = 1; i <= mags; i++) lines.push(`    mag${i}: { kind: mag }`);
  for (let i = 1; i <= mns; i++) lines.push(`    mn${i}: { kind: mn, interfaces: { wlan0: { att: "802.11" } } }`);
  lines.push('  links:', '    - endpoints: ["lma1:eth0", "cn1:eth0"]');
  for (let i = 1; i <= mags; i++) lines.push(`    - endpoints: ["mag${i}:eth0", "lma1:bh${i}"]`);
  for (let i = 1; i <= mns; i++) lines.push(`    - endpoints: ["mn${i}:wlan0", "mag${((i - 1) % mags) + 1}:acc${i}"]`);
  lines.push(`settings: { l2Move: ${l2Move} }`);
  return `${lines.join('\n')}\n`;
}

