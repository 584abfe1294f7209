/**
 * A DNS server for one test: it answers A queries for the names it is given with whatever
 * address the test sets at that moment (TTL 0, so nothing caches it), AAAA queries with no
 * address, and everything else with NXDOMAIN. Changing the answer between two lookups is a
 * "DNS rebinding" attack: a name that resolved to an allowed address a moment ago now
 * resolves to 169.254.169.254.
 *
 * Why hand-written here: the test needs an answer that changes on demand, which dnsmasq and
 * the other resolvers Debian ships do not do without a restart; a single-question DNS answer
 * (RFC 1035 §4.1) is a few dozen bytes over UDP.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface RebindingDns {
  /** The address the next A query for `name` gets. */
  answer(name: string, address: string): void;
  /** A queries answered so far, per name. */
  readonly queries: Map<string, number>;
  close(): Promise<void>;
}

const TYPE_A = 1;

/** The question's name (lower case, no trailing dot), its type, and where the question ends. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  const labels: string[] = [];
  let at = 12;
  while (at < query.length) {
    const length = query[at]!;
    if (length === 0) break;
    if (length > 63) return undefined; // no compression in questions
    labels.push(query.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  if (at + 5 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 };
}

function reply(query: Buffer, end: number, rcode: number, address?: string): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2); // QR, AA, RD as asked, RA
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(address === undefined ? 0 : 1, 6); // ANCOUNT
  const question = query.subarray(12, end);
  if (address === undefined) return Buffer.concat([header, question]);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // the name, by pointer to the question
  answer.writeUInt16BE(TYPE_A, 2);
  answer.writeUInt16BE(1, 4); // IN
  answer.writeUInt32BE(0, 6); // TTL 0
  answer.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => answer.writeUInt8(Number(octet), 12 + i));
  return Buffer.concat([header, question, answer]);
}

/** Starts the server on `host`:`port` (UDP). */
export async function startRebindingDns(host: string, port = 53): Promise<RebindingDns> {
  const answers = new Map<string, string>();
  const queries = new Map<string, number>();
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const question = readQuestion(query);
    if (question === undefined) return;
    const address = answers.get(question.name);
    let response: Buffer;
    if (address === undefined) response = reply(query, question.end, 3); // NXDOMAIN
    else if (question.type === TYPE_A) {
      queries.set(question.name, (queries.get(question.name) ?? 0) + 1);
      response = reply(query, question.end, 0, address);
    } else response = reply(query, question.end, 0); // the name exists, with no address of this type (AAAA)
    socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    answer: (name, address) => answers.set(name.toLowerCase(), address),
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
