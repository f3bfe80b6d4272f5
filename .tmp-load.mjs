import http from 'node:http';
const [port, seconds, conc] = [Number(process.argv[2]), Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 64)];
const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
let n = 0; const lat = []; let errors = 0; const until = Date.now() + seconds * 1000;
const one = () => new Promise((resolve) => {
  const body = Buffer.from(JSON.stringify({ user_id: `u${n++ % 10000}`, features: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 + (n % 5), petal_width: 0.2 } }));
  const t = performance.now();
  const req = http.request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode === 200) lat.push(performance.now() - t); else errors++; resolve(); }); });
  req.on('error', () => { errors++; resolve(); }); req.end(body);
});
await Promise.all(Array.from({ length: conc }, async () => { while (Date.now() < until) await one(); }));
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ rps: Math.round(lat.length / seconds), p50: lat[Math.floor(lat.length / 2)]?.toFixed(1), p99: lat[Math.floor(lat.length * 0.99)]?.toFixed(1), errors }));
agent.destroy();
