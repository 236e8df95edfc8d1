import { readdirSync, statSync } from 'node:fs';

// Which named namespace this process runs in, seen from inside: the same
// test as `ip netns identify` (same device and inode as /proc/self/ns/net),
// without spawning ip. Checks the expected name first, then scans.

const NETNS_DIR = '/run/netns';

export interface NetnsIdentity {
  name: string | null; // null: the root namespace or an unnamed one
  inode: number;
}

export function identifyNetns(expected?: string): NetnsIdentity {
  const self = statSync('/proc/self/ns/net');
  const same = (name: string) => {
    try {
      const s = statSync(`${NETNS_DIR}/${name}`);
      return s.ino === self.ino && s.dev === self.dev;
    } catch {
      return false;
    }
  };
  if (expected && same(expected)) return { name: expected, inode: self.ino };
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    // no named namespaces at all
  }
  return { name: names.find(same) ?? null, inode: self.ino };
}
