/**
 * The client a request counts against, for the limits on unfinished bodies and failed logins: its
 * IPv4 address, or the /64 network of an IPv6 address — one subscriber's allocation (RFC 6177), so
 * that a client cannot dodge a limit by taking another address of its own /64. Conclave does not
 * read X-Forwarded-For: behind a reverse proxy every client is the proxy's address.
 */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  if (!remoteAddress.includes(':')) return remoteAddress;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = remoteAddress.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = remoteAddress.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
