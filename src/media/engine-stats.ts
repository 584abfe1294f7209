/**
 * What a media engine reports about itself (`stats`): its clock's lateness, how long its ticks
 * take, its thread's load and heap, and how its sockets and thread run. Split from the engine so
 * its request handling reads apart from bookkeeping.
 */
import { performance } from 'node:perf_hooks';
import type { MediaClockStats } from './media-clock.js';
import type { PacketTotals, WorkerStats } from './protocol.js';

/** Wall time of the engine's ticks, in µs. */
export class TickTimes {
  private total = 0;
  private count = 0;
  max = 0;

  add(us: number): void {
    this.total += us;
    this.count++;
    if (us > this.max) this.max = us;
  }

  get meanUs(): number {
    return this.count > 0 ? this.total / this.count : 0;
  }
}

export interface WorkerFacts {
  worker: number;
  ticks: number;
  clock: MediaClockStats;
  times: TickTimes;
  rooms: number;
  legs: number;
  udp: 'native' | 'dgram';
  realtime: boolean;
  closedLegPackets: PacketTotals;
}

/** The engine's figures plus its thread's event-loop utilisation and V8 heap, now. */
export function workerStatsOf(f: WorkerFacts): WorkerStats {
  const elu = performance.eventLoopUtilization();
  const mem = process.memoryUsage();
  return {
    worker: f.worker,
    ticks: f.ticks,
    lateTicks: f.clock.late,
    skippedTicks: f.clock.skipped,
    maxLateMs: f.clock.maxLateMs,
    rooms: f.rooms,
    legs: f.legs,
    tickMeanUs: f.times.meanUs,
    tickMaxUs: f.times.max,
    elu: { idleMs: elu.idle, activeMs: elu.active },
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    udp: f.udp,
    realtime: f.realtime,
    closedLegPackets: { ...f.closedLegPackets },
  };
}
