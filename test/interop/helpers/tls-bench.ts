/**
 * The bench of the SIP-over-TLS interop tests: a network namespace, certificates from a
 * throwaway CA (openssl) for its two addresses, the PEM baresip takes (certificate and key in
 * one file), a tone WAV for baresip's microphone, and a Conclave with CONCLAVE_SIP_TLS_* on a
 * free port; plus the check that a `sim:…;record` call hears the phone's tone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { freeTcpPort } from '../../helpers/free-port.js';
import { makeTestCertificates, type TestCertificates } from '../../helpers/tls-certificates.js';
import { startConclave, type Conclave } from './conclave.js';
import { createNetns, type Netns } from './netns.js';
import { requireTools } from './tools.js';
import { frameLevels, meanLevel, writeToneWav } from './wav.js';

const RATE = 8000;
/** A tone at least this loud (Goertzel amplitude, full scale 1) is heard. */
export const HEARD = 0.1;

export interface TlsBench {
  readonly netns: Netns;
  readonly certs: TestCertificates;
  /** baresip's `sip_certificate`: the certificate and key in one PEM file. */
  readonly phonePem: string;
  /** An 8 kHz WAV of the phone's tone, 30 s long. */
  readonly phoneTone: string;
  readonly tlsPort: number;
  readonly conclave: Conclave;
  close(): Promise<void>;
}

/** Starts the bench; `phoneHz` is the tone baresip will play. */
export async function startTlsBench(phoneHz: number): Promise<TlsBench> {
  requireTools('baresip', 'sox', 'ip');
  const scratch = await mkdtemp(join(tmpdir(), 'conclave-interop-tls-'));
  let netns: Netns | undefined;
  let certs: TestCertificates | undefined;
  const close = async (): Promise<void> => {
    await netns?.destroy();
    certs?.remove();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    const phoneTone = join(scratch, `tone${phoneHz}.wav`);
    await writeToneWav(phoneTone, { freq: phoneHz, seconds: 30 });
    netns = await createNetns();
    const tlsCerts = makeTestCertificates([netns.hostAddress, netns.nsAddress]);
    certs = tlsCerts;
    const phonePem = join(scratch, 'phone.pem');
    await writeFile(phonePem, tlsCerts.cert + tlsCerts.key);
    const tlsPort = await freeTcpPort();
    const conclave = await startConclave(netns, { sipTls: { port: tlsPort, certFile: tlsCerts.certFile, keyFile: tlsCerts.keyFile, caFile: tlsCerts.caFile } });
    return {
      netns,
      certs: tlsCerts,
      phonePem,
      phoneTone,
      tlsPort,
      conclave,
      async close() {
        await conclave.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The `sim:…;record` call hears `hz` over the next `seconds` (checked in the last half second). */
export async function simHears(c: Conclave, sim: string, hz: number, seconds: number): Promise<void> {
  const from = (await c.recording(sim)).length;
  const heard = (await c.recordingUntil(sim, from + Math.round(seconds * RATE))).subarray(from);
  const tail = heard.subarray(heard.length - RATE / 2);
  expect(meanLevel(tail, hz), frameLevels(tail, hz).map((l) => l.toFixed(3)).join(' ')).toBeGreaterThan(HEARD);
}
