/**
 * Where a fetch's time goes, piece by piece, in one process (no network): the same conference of
 * 250 participants on a SQLite file, then each step of `GET …/Participants/CA….json` timed alone
 * in a tight loop — the raw SQLite statements, the store's Kysely queries, authentication,
 * rendering, the whole request through fastify's `inject` — next to a bare fastify route's
 * `inject`. A diagnostic for reading the profile of `npm run bench -- --profile`, not a score:
 *
 *   npx tsx bench/pieces.ts [milliseconds per piece, default 1000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import Fastify from 'fastify';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { newAuthToken, newSid } from '../src/domain/sids.js';
import { renderInstance } from '../src/http/representation/render.js';
import { participantShape } from '../src/http/representation/participant-shape.js';
import { authenticate } from '../src/services/authenticate.js';
import { getParticipant } from '../src/services/read-conferences.js';
import { joinConference } from '../src/services/join-conference.js';
import { openStore } from '../src/store/open-store.js';
import { PARTICIPANTS } from './protocol.js';

type Piece = () => unknown;

/** Runs `piece` for about `ms` milliseconds; returns microseconds per call. */
async function time(piece: Piece, ms: number): Promise<number> {
  for (let i = 0; i < 200; i++) await piece(); // warm the JIT
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 100; i++) await piece();
    calls += 100;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / 1000 / calls;
}

async function main(): Promise<void> {
  const ms = Number(process.argv[2] ?? 1000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-pieces-'));
  const file = path.join(dir, 'conclave.sqlite');
  const owner = { accountSid: newSid('AC'), authToken: newAuthToken() };
  const store = await openStore(file);
  const app = await createApp(
    { http: { host: '127.0.0.1', port: 0 }, database: { kind: 'sqlite', path: file }, credentialsFile: path.join(dir, 'c.json'), logLevel: 'silent' },
    owner,
    { store, logger: pino({ level: 'silent' }) },
  );
  const raw = new Sqlite(file, { readonly: true });
  try {
    let conferenceSid = '';
    const callSids: string[] = [];
    for (let i = 0; i < PARTICIPANTS; i++) {
      const joined = await joinConference(app.services, { accountSid: owner.accountSid, friendlyName: 'bench-room', label: `caller-${i}` });
      conferenceSid = joined.conference.sid;
      callSids.push(joined.participant.callSid);
    }
    const callSid = callSids[PARTICIPANTS / 2] ?? '';
    const participant = await getParticipant(app.services, owner.accountSid, conferenceSid, callSid);
    const url = `/2010-04-01/Accounts/${owner.accountSid}/Conferences/${conferenceSid}/Participants/${callSid}.json`;
    const authorization = `Basic ${Buffer.from(`${owner.accountSid}:${owner.authToken}`).toString('base64')}`;
    const body = renderInstance(participantShape, participant, 'json');

    const bare = Fastify({ logger: false });
    bare.get('/bare', (_request, reply) => void reply.type(body.contentType).send(body.body));
    await bare.ready();

    const accountStmt = raw.prepare('select * from "accounts" where "sid" = ?');
    const participantStmt = raw.prepare('select * from "participants" where "call_sid" = ? and "conference_sid" = ?');
    const pieces: Array<[string, Piece]> = [
      ['raw SQLite: account by sid (.get)', () => accountStmt.get(owner.accountSid)],
      ['raw SQLite: participant by call_sid (.get)', () => participantStmt.get(callSid, conferenceSid)],
      ['store.findAccount (Kysely)', () => store.findAccount(owner.accountSid)],
      ['store.findParticipant (Kysely)', () => store.findParticipant(conferenceSid, callSid)],
      ['authenticate (findAccount + 2 × SHA-256)', () => authenticate(store, owner.accountSid, owner.authToken)],
      ['renderInstance .json', () => renderInstance(participantShape, participant, 'json')],
      ['renderInstance XML', () => renderInstance(participantShape, participant, 'xml')],
      ['whole fetch .json via fastify inject', () => app.http.inject({ method: 'GET', url, headers: { authorization } })],
      ['bare route, same body, via fastify inject', () => bare.inject({ method: 'GET', url: '/bare' })],
    ];
    console.log(`µs per call, ${ms} ms per piece, ${PARTICIPANTS} participants, SQLite file, Node ${process.version}`);
    for (const [name, piece] of pieces) {
      const us = await time(piece, ms);
      console.log(`${us.toFixed(2).padStart(9)} µs  ${name}`);
    }
    await bare.close();
  } finally {
    raw.close();
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
