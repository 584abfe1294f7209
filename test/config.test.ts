/** The SIP and media settings of loadConfig: defaults, overrides, and one-line errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CARRIER_NETWORKS, DEFAULT_SIP_LIMITS, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('SIP and media configuration', () => {
  it('defaults to SIP on 127.0.0.1:5060, RTP 10000-20000, a 30 s RTP timeout', () => {
    const config = loadConfig([], {});
    expect(config.sip).toEqual({ host: '127.0.0.1', port: 5060, publicAddress: '127.0.0.1', limits: DEFAULT_SIP_LIMITS, carrierNetworks: [...DEFAULT_CARRIER_NETWORKS], trace: false });
    expect(loadConfig([], { CONCLAVE_SIP_TRACE: 'true' }).sip?.trace).toBe(true);
    expect(config.media).toMatchObject({ host: '127.0.0.1', rtpPorts: { min: 10000, max: 20000 }, rtpTimeoutMs: 30_000, speechCommand: 'espeak-ng', realtimePriority: 10, realtimeRequired: false, udp: 'native' });
    expect(loadConfig([], { CONCLAVE_MEDIA_REALTIME: 'off' }).media).toMatchObject({ realtimePriority: 0, realtimeRequired: false });
  });

  it('takes the environment and --sip-port, and announces a real address when bound to 0.0.0.0', () => {
    const config = loadConfig(['--sip-port', '5080'], {
      CONCLAVE_SIP_HOST: '0.0.0.0',
      CONCLAVE_RTP_PORTS: '30000-30100',
      CONCLAVE_RTP_TIMEOUT: '0',
      CONCLAVE_ESPEAK: '/opt/espeak',
      CONCLAVE_MEDIA_REALTIME: '10',
      CONCLAVE_MEDIA_UDP: 'dgram',
    });
    expect(config.sip?.port).toBe(5080);
    expect(config.sip?.publicAddress).not.toBe('0.0.0.0');
    expect(config.media).toMatchObject({ host: '0.0.0.0', rtpPorts: { min: 30000, max: 30100 }, rtpTimeoutMs: 0, speechCommand: '/opt/espeak', realtimePriority: 10, realtimeRequired: true, udp: 'dgram' });
    expect(loadConfig([], { CONCLAVE_SIP_HOST: '0.0.0.0', CONCLAVE_PUBLIC_ADDRESS: '203.0.113.7' }).sip?.publicAddress).toBe('203.0.113.7');
  });

  it('takes the SIP flood limits and the trusted sources from the environment (0: no limit)', () => {
    const config = loadConfig([], {
      CONCLAVE_SIP_INVITE_RATE: '50',
      CONCLAVE_SIP_REGISTER_RATE: '0',
      CONCLAVE_SIP_MAX_TRANSACTIONS: '20000',
      CONCLAVE_SIP_TCP_PER_SOURCE: '8',
      CONCLAVE_SIP_TCP_MAX: '4096',
      CONCLAVE_SIP_TRUSTED: ' 192.0.2.10, 198.51.100.0/24 ,2001:db8::/32',
    });
    expect(config.sip?.limits).toEqual({
      invitesPerSecond: 50,
      registersPerSecond: 0,
      maxTransactions: 20_000,
      tcpPerSource: 8,
      tcpMax: 4096,
      trusted: ['192.0.2.10', '198.51.100.0/24', '2001:db8::/32'],
    });
  });

  it('asks the system resolver for SIP host names unless CONCLAVE_SIP_DNS_SERVERS names servers (ip, ip:port, [ipv6]:port)', () => {
    expect(loadConfig([], {}).sip?.dnsServers).toBeUndefined();
    expect(loadConfig([], { CONCLAVE_SIP_DNS_SERVERS: ' ' }).sip?.dnsServers).toBeUndefined();
    const servers = loadConfig([], { CONCLAVE_SIP_DNS_SERVERS: '192.0.2.53, 127.0.0.1:5353,2001:db8::53,[2001:db8::54]:53' }).sip?.dnsServers;
    expect(servers).toEqual(['192.0.2.53', '127.0.0.1:5353', '2001:db8::53', '[2001:db8::54]:53']);
  });

  it('turns SIP over TLS on with a certificate and a key (port 5061 unless CONCLAVE_SIP_TLS_PORT says, the system\'s CAs unless CONCLAVE_SIP_TLS_CA says)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conclave-config-tls-'));
    try {
      for (const name of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, name), 'PEM');
      const files = { CONCLAVE_SIP_TLS_CERT: join(dir, 'cert.pem'), CONCLAVE_SIP_TLS_KEY: join(dir, 'key.pem') };
      expect(loadConfig([], {}).sip?.tls).toBeUndefined();
      expect(loadConfig([], files).sip?.tls).toEqual({ port: 5061, certFile: files.CONCLAVE_SIP_TLS_CERT, keyFile: files.CONCLAVE_SIP_TLS_KEY });
      expect(loadConfig([], { ...files, CONCLAVE_SIP_TLS_PORT: '5071', CONCLAVE_SIP_TLS_CA: join(dir, 'ca.pem') }).sip?.tls).toEqual({
        port: 5071,
        certFile: files.CONCLAVE_SIP_TLS_CERT,
        keyFile: files.CONCLAVE_SIP_TLS_KEY,
        caFile: join(dir, 'ca.pem'),
      });
      const fails = (env: NodeJS.ProcessEnv, message: RegExp): void => {
        expect(() => loadConfig([], env)).toThrow(ConfigError);
        expect(() => loadConfig([], env)).toThrow(message);
      };
      fails({ CONCLAVE_SIP_TLS_CERT: files.CONCLAVE_SIP_TLS_CERT }, /CONCLAVE_SIP_TLS_CERT and CONCLAVE_SIP_TLS_KEY go together/);
      fails({ CONCLAVE_SIP_TLS_PORT: '5061' }, /CONCLAVE_SIP_TLS_PORT is set but SIP over TLS is off/);
      fails({ CONCLAVE_SIP_TLS_CA: join(dir, 'ca.pem') }, /CONCLAVE_SIP_TLS_CA is set but SIP over TLS is off/);
      fails({ ...files, CONCLAVE_SIP_TLS_KEY: join(dir, 'missing.pem') }, /CONCLAVE_SIP_TLS_KEY=.*missing\.pem cannot be read \(ENOENT\)/);
      fails({ ...files, CONCLAVE_SIP_TLS_PORT: 'tls' }, /CONCLAVE_SIP_TLS_PORT=tls is not a TCP port/);
      fails({ ...files, CONCLAVE_SIP_TLS_PORT: '5060' }, /CONCLAVE_SIP_TLS_PORT=5060 is the SIP port/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets calls to numbers in from loopback and private networks unless CONCLAVE_SIP_CARRIER_NETWORKS says (none: the trunk alone)', () => {
    expect(loadConfig([], {}).sip?.carrierNetworks).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    expect(loadConfig([], { CONCLAVE_SIP_CARRIER_NETWORKS: ' 203.0.113.0/24, 198.51.100.7,2001:db8::/32 ' }).sip?.carrierNetworks).toEqual(['203.0.113.0/24', '198.51.100.7', '2001:db8::/32']);
    expect(loadConfig([], { CONCLAVE_SIP_CARRIER_NETWORKS: 'none' }).sip?.carrierNetworks).toEqual([]);
  });

  it('has no trunk unless CONCLAVE_SIP_TRUNK names one; takes its credentials and outbound registration', () => {
    expect(loadConfig([], {}).sip?.trunk).toBeUndefined();
    expect(loadConfig([], { CONCLAVE_SIP_TRUNK: 'sip:203.0.113.5:5080' }).sip?.trunk).toEqual({ uri: 'sip:203.0.113.5:5080', register: false, registerExpires: 600 });
    expect(
      loadConfig([], {
        CONCLAVE_SIP_TRUNK: 'sip:sip.carrier.example;transport=tls',
        CONCLAVE_SIP_TRUNK_USERNAME: 'acme',
        CONCLAVE_SIP_TRUNK_PASSWORD: 's3cret pass',
        CONCLAVE_SIP_TRUNK_REGISTER: 'true',
        CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES: '3600',
      }).sip?.trunk,
    ).toEqual({ uri: 'sip:sip.carrier.example;transport=tls', auth: { username: 'acme', password: 's3cret pass' }, register: true, registerExpires: 3600 });
  });

  it.each([
    [{ CONCLAVE_SIP_CARRIER_NETWORKS: '10.0.0.0/8,carrier.example' }, /CONCLAVE_SIP_CARRIER_NETWORKS has "carrier.example", which is not an IP address or CIDR block/],
    [{ CONCLAVE_SIP_TRACE: 'yes' }, /CONCLAVE_SIP_TRACE=yes is not true or false/],
    [{ CONCLAVE_SIP_TRUNK: 'carrier.example' }, /CONCLAVE_SIP_TRUNK=carrier.example is not a SIP URI of a trunk/],
    [{ CONCLAVE_SIP_TRUNK: 'sip:carrier.example;transport=sctp' }, /CONCLAVE_SIP_TRUNK=sip:carrier.example;transport=sctp is not a SIP URI of a trunk/],
    [{ CONCLAVE_SIP_TRUNK: 'sip:carrier.example', CONCLAVE_SIP_TRUNK_USERNAME: 'acme' }, /CONCLAVE_SIP_TRUNK_USERNAME and CONCLAVE_SIP_TRUNK_PASSWORD go together/],
    [{ CONCLAVE_SIP_TRUNK: 'sip:carrier.example', CONCLAVE_SIP_TRUNK_REGISTER: 'yes' }, /CONCLAVE_SIP_TRUNK_REGISTER=yes is not true or false/],
    [{ CONCLAVE_SIP_TRUNK: 'sip:carrier.example', CONCLAVE_SIP_TRUNK_REGISTER: 'true' }, /CONCLAVE_SIP_TRUNK_REGISTER=true needs CONCLAVE_SIP_TRUNK_USERNAME/],
    [{ CONCLAVE_SIP_TRUNK: 'sip:carrier.example', CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES: '30' }, /CONCLAVE_SIP_TRUNK_REGISTER_EXPIRES=30 is not a number of seconds/],
    [{ CONCLAVE_SIP_TRUNK_USERNAME: 'acme' }, /CONCLAVE_SIP_TRUNK_USERNAME is set but there is no trunk/],
    [{ CONCLAVE_SIP_DNS_SERVERS: 'dns.example.com' }, /CONCLAVE_SIP_DNS_SERVERS has "dns.example.com", which is not a DNS server address; write IP addresses with optional ports/],
    [{ CONCLAVE_SIP_DNS_SERVERS: '192.0.2.53:0' }, /CONCLAVE_SIP_DNS_SERVERS has "192.0.2.53:0"/],
    [{ CONCLAVE_SIP_DNS_SERVERS: '192.0.2.300' }, /CONCLAVE_SIP_DNS_SERVERS has "192.0.2.300"/],
    [{ CONCLAVE_SIP_DNS_SERVERS: '[192.0.2.53]:53' }, /CONCLAVE_SIP_DNS_SERVERS has "\[192.0.2.53\]:53"/],
    [{ CONCLAVE_SIP_PORT: '70000' }, /CONCLAVE_SIP_PORT=70000 is not a TCP port/],
    [{ CONCLAVE_SIP_HOST: '::1' }, /not an IPv4 address/],
    [{ CONCLAVE_PUBLIC_ADDRESS: 'sip.example.com' }, /CONCLAVE_PUBLIC_ADDRESS=sip.example.com is not a usable IPv4 address/],
    [{ CONCLAVE_RTP_PORTS: '80-100' }, /CONCLAVE_RTP_PORTS=80-100 is not a port range/],
    [{ CONCLAVE_RTP_PORTS: '10000' }, /is not a port range/],
    [{ CONCLAVE_RTP_TIMEOUT: '-1' }, /CONCLAVE_RTP_TIMEOUT=-1 is not a number of seconds/],
    [{ CONCLAVE_MEDIA_REALTIME: 'high' }, /CONCLAVE_MEDIA_REALTIME=high is not a real-time priority/],
    [{ CONCLAVE_MEDIA_UDP: 'io_uring' }, /CONCLAVE_MEDIA_UDP=io_uring is not a UDP path/],
    [{ CONCLAVE_SIP_INVITE_RATE: 'fast' }, /CONCLAVE_SIP_INVITE_RATE=fast is not a limit; use a whole number from 0 \(no limit\) to 100000/],
    [{ CONCLAVE_SIP_REGISTER_RATE: '-1' }, /CONCLAVE_SIP_REGISTER_RATE=-1 is not a limit/],
    [{ CONCLAVE_SIP_MAX_TRANSACTIONS: '1e6' }, /CONCLAVE_SIP_MAX_TRANSACTIONS=1e6 is not a limit/],
    [{ CONCLAVE_SIP_TCP_PER_SOURCE: '2000000' }, /CONCLAVE_SIP_TCP_PER_SOURCE=2000000 is not a limit/],
    [{ CONCLAVE_SIP_TCP_MAX: 'x' }, /CONCLAVE_SIP_TCP_MAX=x is not a limit/],
    [{ CONCLAVE_SIP_TRUSTED: '192.0.2.10,pbx.example.com' }, /CONCLAVE_SIP_TRUSTED has "pbx.example.com", which is not an IP address or CIDR block/],
    [{ CONCLAVE_SIP_TRUSTED: '198.51.100.0/33' }, /CONCLAVE_SIP_TRUSTED has "198.51.100.0\/33"/],
  ])('refuses %o with one line', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(ConfigError);
    expect(() => loadConfig([], env)).toThrow(message);
  });
});

describe('PostgreSQL timeouts', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/test';

  it('default to a 5 s statement timeout and a 2 s wait for a connection, and take the environment', () => {
    expect(loadConfig([], { CONCLAVE_DATABASE: url }).database).toEqual({ kind: 'postgres', url, statementTimeoutMs: 5000, connectTimeoutMs: 2000 });
    const database = loadConfig([], { CONCLAVE_DATABASE: url, CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS: '1500', CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS: '300' }).database;
    expect(database).toMatchObject({ statementTimeoutMs: 1500, connectTimeoutMs: 300 });
  });

  it.each([
    [{ CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS: '5s' }, /CONCLAVE_DATABASE_STATEMENT_TIMEOUT_MS=5s is not a timeout; use milliseconds from 100 to 120000/],
    [{ CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS: '0' }, /CONCLAVE_DATABASE_CONNECT_TIMEOUT_MS=0 is not a timeout/],
  ])('refuses %o with one line', (env, message) => {
    expect(() => loadConfig([], { CONCLAVE_DATABASE: url, ...env })).toThrow(ConfigError);
    expect(() => loadConfig([], { CONCLAVE_DATABASE: url, ...env })).toThrow(message);
  });
});

describe('HTTP limits', () => {
  it('default to a 30 s request timeout, 16 unfinished bodies per address, 10 failed logins a minute per address and 100 per account, and take the environment', () => {
    expect(loadConfig([], {}).http.limits).toEqual({ requestTimeoutMs: 30_000, maxUnfinishedBodies: 16, loginFailuresPerSource: 10, loginFailuresPerAccount: 100 });
    const limits = loadConfig([], {
      CONCLAVE_HTTP_REQUEST_TIMEOUT_MS: '5000',
      CONCLAVE_HTTP_MAX_UNFINISHED_BODIES: '0',
      CONCLAVE_LOGIN_FAILURES_PER_SOURCE: '3',
      CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT: '0',
    }).http.limits;
    expect(limits).toEqual({ requestTimeoutMs: 5000, maxUnfinishedBodies: 0, loginFailuresPerSource: 3, loginFailuresPerAccount: 0 });
  });

  it.each([
    [{ CONCLAVE_HTTP_REQUEST_TIMEOUT_MS: '30s' }, /CONCLAVE_HTTP_REQUEST_TIMEOUT_MS=30s is not a timeout; use milliseconds from 100 to 120000/],
    [{ CONCLAVE_HTTP_REQUEST_TIMEOUT_MS: '600000' }, /CONCLAVE_HTTP_REQUEST_TIMEOUT_MS=600000 is not a timeout/],
    [{ CONCLAVE_HTTP_MAX_UNFINISHED_BODIES: '-1' }, /CONCLAVE_HTTP_MAX_UNFINISHED_BODIES=-1 is not a limit; use a whole number from 0 \(no limit\) to 100000/],
    [{ CONCLAVE_LOGIN_FAILURES_PER_SOURCE: 'ten' }, /CONCLAVE_LOGIN_FAILURES_PER_SOURCE=ten is not a limit/],
    [{ CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT: '1000000' }, /CONCLAVE_LOGIN_FAILURES_PER_ACCOUNT=1000000 is not a limit/],
  ])('refuses %o with one line', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(ConfigError);
    expect(() => loadConfig([], env)).toThrow(message);
  });
});

describe('outbound policy', () => {
  it('has no operator lists by default (the built-in deny list alone) and reads CONCLAVE_WEBHOOK_ALLOW and CONCLAVE_WEBHOOK_DENY', () => {
    expect(loadConfig([], {}).outbound).toEqual({ allow: [], deny: [] });
    const { outbound } = loadConfig([], { CONCLAVE_WEBHOOK_ALLOW: '169.254.77.0/24', CONCLAVE_WEBHOOK_DENY: '10.0.0.0/8, 127.0.0.0/8,::1' });
    expect(outbound?.allow.map((n) => n.text)).toEqual(['169.254.77.0/24']);
    expect(outbound?.deny.map((n) => n.text)).toEqual(['10.0.0.0/8', '127.0.0.0/8', '::1']);
  });

  it.each([
    [{ CONCLAVE_WEBHOOK_DENY: '10.0.0.0/8,localhost' }, 'CONCLAVE_WEBHOOK_DENY=10.0.0.0/8,localhost is not a list of networks: localhost is not an IPv4 or IPv6 network; write CIDR blocks separated by commas, e.g. 10.0.0.0/8,fc00::/7'],
    [{ CONCLAVE_WEBHOOK_ALLOW: '169.254.0.0/40' }, 'CONCLAVE_WEBHOOK_ALLOW=169.254.0.0/40 is not a list of networks: 169.254.0.0/40 has no valid prefix length (0 to 32 for IPv4); write CIDR blocks separated by commas, e.g. 10.0.0.0/8,fc00::/7'],
  ])('refuses %o with one line', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(new ConfigError(message));
  });
});

describe('shutdown', () => {
  it('gives a stop 10 s by default and takes CONCLAVE_SHUTDOWN_TIMEOUT_MS', () => {
    expect(loadConfig([], {}).shutdownTimeoutMs).toBe(10_000);
    expect(loadConfig([], { CONCLAVE_SHUTDOWN_TIMEOUT_MS: '2500' }).shutdownTimeoutMs).toBe(2500);
    expect(() => loadConfig([], { CONCLAVE_SHUTDOWN_TIMEOUT_MS: 'soon' })).toThrow(new ConfigError('CONCLAVE_SHUTDOWN_TIMEOUT_MS=soon is not a timeout; use milliseconds from 100 to 120000'));
  });
});

describe('several nodes', () => {
  it('leases a node 5 s by default and takes CONCLAVE_NODE_LEASE_MS', () => {
    expect(loadConfig([], {}).node?.leaseMs).toBe(5_000);
    expect(loadConfig([], { CONCLAVE_NODE_LEASE_MS: '1500' }).node?.leaseMs).toBe(1500);
    expect(() => loadConfig([], { CONCLAVE_NODE_LEASE_MS: '5s' })).toThrow(new ConfigError('CONCLAVE_NODE_LEASE_MS=5s is not a timeout; use milliseconds from 100 to 120000'));
  });

  it('is reached by other nodes at the SIP public address unless CONCLAVE_NODE_ADDRESS says otherwise', () => {
    expect(loadConfig([], { CONCLAVE_SIP_HOST: '10.1.2.3' }).node?.address).toBe('10.1.2.3');
    expect(loadConfig([], { CONCLAVE_SIP_HOST: '10.1.2.3', CONCLAVE_PUBLIC_ADDRESS: '192.0.2.7' }).node?.address).toBe('192.0.2.7');
    expect(loadConfig([], { CONCLAVE_NODE_ADDRESS: '10.9.8.7' }).node?.address).toBe('10.9.8.7');
    expect(() => loadConfig([], { CONCLAVE_NODE_ADDRESS: 'node-a.internal' })).toThrow(
      new ConfigError('CONCLAVE_NODE_ADDRESS=node-a.internal is not a usable IPv4 address; set the address other nodes reach this one at'),
    );
  });
});

describe('recordings', () => {
  it('keeps recordings for ever in a recordings directory beside the SQLite file, or ./data/recordings on PostgreSQL', () => {
    expect(loadConfig([], { CONCLAVE_DATABASE: '/var/lib/conclave/conclave.db' }).recordings).toEqual({ dir: '/var/lib/conclave/recordings', retentionDays: 0 });
    expect(loadConfig([], { CONCLAVE_DATABASE: 'postgres://postgres@127.0.0.1:5432/test' }).recordings?.dir).toBe(resolve('./data/recordings'));
    expect(loadConfig([], { CONCLAVE_DATABASE: ':memory:' }).recordings?.dir).toBe(resolve('./data/recordings'));
  });

  it('takes CONCLAVE_RECORDINGS_DIR (made absolute) and CONCLAVE_RECORDINGS_RETENTION_DAYS', () => {
    const config = loadConfig([], { CONCLAVE_RECORDINGS_DIR: 'shared/recordings', CONCLAVE_RECORDINGS_RETENTION_DAYS: '90' });
    expect(config.recordings).toEqual({ dir: resolve('shared/recordings'), retentionDays: 90 });
    expect(loadConfig([], { CONCLAVE_RECORDINGS_DIR: '/mnt/nfs/recordings', CONCLAVE_RECORDINGS_RETENTION_DAYS: '0' }).recordings).toEqual({ dir: '/mnt/nfs/recordings', retentionDays: 0 });
  });

  it.each(['30d', '-1', '1.5', '36501'])('refuses CONCLAVE_RECORDINGS_RETENTION_DAYS=%s with one line', (days) => {
    expect(() => loadConfig([], { CONCLAVE_RECORDINGS_RETENTION_DAYS: days })).toThrow(
      new ConfigError(`CONCLAVE_RECORDINGS_RETENTION_DAYS=${days} is not a number of days; use a whole number from 0 (keep for ever) to 36500`),
    );
  });
});

describe('metrics', () => {
  it('serves /metrics on the API port by default, or not at all', () => {
    expect(loadConfig([], {}).metrics).toEqual({ serve: 'api' });
    expect(loadConfig([], { CONCLAVE_METRICS: 'off' }).metrics).toEqual({ serve: 'off' });
  });

  it('serves it on a port of its own, on the API host unless CONCLAVE_METRICS_HOST', () => {
    expect(loadConfig(['--host', '10.0.0.5'], { CONCLAVE_METRICS_PORT: '9464' }).metrics).toEqual({ serve: 'port', host: '10.0.0.5', port: 9464 });
    expect(loadConfig([], { CONCLAVE_METRICS: 'port', CONCLAVE_METRICS_PORT: '9464', CONCLAVE_METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ serve: 'port', host: '0.0.0.0', port: 9464 });
  });

  it.each([
    [{ CONCLAVE_METRICS: 'on' }, 'CONCLAVE_METRICS=on is not off, api or port'],
    [{ CONCLAVE_METRICS: 'port' }, 'CONCLAVE_METRICS=port needs CONCLAVE_METRICS_PORT'],
    [{ CONCLAVE_METRICS: 'api', CONCLAVE_METRICS_PORT: '9464' }, 'CONCLAVE_METRICS_PORT is set but CONCLAVE_METRICS=api; use CONCLAVE_METRICS=port or unset CONCLAVE_METRICS_PORT'],
    [{ CONCLAVE_METRICS_PORT: 'x' }, 'CONCLAVE_METRICS_PORT=x is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)'],
  ])('refuses %o with one line', (env, message) => {
    expect(() => loadConfig([], env)).toThrow(new ConfigError(message));
  });
});
