import { BlockList, isIP } from 'node:net';

/**
 * The networks of a `cidr` condition as one node:net BlockList (IPv4 and IPv6), or the entries that
 * are not networks. A bare address is its own /32 or /128.
 */
export function parseCidrs(entries: readonly string[]): { list: BlockList; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefixText = slash === -1 ? String(max) : entry.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (family === 0 || !(prefix >= 0 && prefix <= max)) {
      invalid.push(entry);
      continue;
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return { list, invalid };
}

/** Whether a value is an IP address inside one of the networks (anything else is in none). */
export function inCidrs(list: BlockList, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const family = isIP(value);
  if (family === 0) return false;
  return list.check(value, family === 4 ? 'ipv4' : 'ipv6');
}
