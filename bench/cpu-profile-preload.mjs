import { Session } from 'node:inspector';
import { writeFileSync, mkdirSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
if (isMainThread && process.env.PROF_OUT) {
  const s = new Session(); s.connect();
  s.post('Profiler.enable'); s.post('Profiler.setSamplingInterval', { interval: 1000 }); s.post('Profiler.start');
  const wall0 = Date.now();
  process.on('exit', () => {
    s.post('Profiler.stop', (err, { profile }) => {
      if (err) return;
      mkdirSync(process.env.PROF_OUT, { recursive: true });
      profile.wallStartMs = wall0;
      writeFileSync(`${process.env.PROF_OUT}/${process.pid}.cpuprofile`, JSON.stringify(profile));
    });
  });
}
