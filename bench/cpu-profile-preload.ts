/**
 * Preloaded into a node process (`NODE_OPTIONS=--import tsx --import <this file>`, as
 * bench/cluster-nodes.ts does for `--profile`): Node refuses `--cpu-prof` in NODE_OPTIONS, so
 * this starts V8's sampling profiler through the inspector and writes its main thread's
 * profile to $BENCH_CPU_PROFILE_DIR when the process exits (a SIGTERM'd node exits through
 * process.exit). The same-thread inspector session answers synchronously, which is what lets
 * the 'exit' handler collect and write the profile.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `node-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
