import { isIPv4, isIPv6 } from 'node:net';

/** The host of a `host[:port]` registry name (`[::1]:5000` → `::1`). */
function hostOf(registry: string): string {
  if (registry.startsWith('[')) {
    const end = registry.indexOf(']');
    return end > 0 ? registry.slice(1, end) : registry;
  }
  const colon = registry.indexOf(':');
  return colon >= 0 && colon === registry.lastIndexOf(':') ? registry.slice(0, colon) : registry;
}

/**
 * Whether a registry is on this machine's loopback — `localhost`, `127.0.0.0/8` or `::1`, with
 * any port — which, as Docker does, is spoken to over plain HTTP without `noHttps`: nothing
 * leaves the machine.
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = hostOf(registry).toLowerCase();
  if (host === 'localhost') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  if (isIPv6(host)) return /^(0{0,4}:){2,7}0{0,3}1$/.test(host) || host === '::1';
  return false;
}
