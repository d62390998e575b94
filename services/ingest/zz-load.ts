import { readFileSync } from 'node:fs';
const [port, token, seconds] = process.argv.slice(2);
const body = readFileSync('/tmp/ingest-batch.json');
const end = Date.now() + Number(seconds) * 1000;
let events = 0;
const began = Date.now();
await Promise.all(Array.from({ length: 8 }, async () => {
  while (Date.now() < end) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/local/audit`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
    const j = (await res.json()) as { accepted?: number };
    events += j.accepted ?? 0;
  }
}));
console.log('events/s', Math.round(events / ((Date.now() - began) / 1000)));
