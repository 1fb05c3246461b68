// The floor: node:http with the same two routes and no session at all.
import { createServer } from 'node:http';
import { listen, LOGIN_BODY, meBody, PROFILE } from './common.mjs';

const me = JSON.stringify(meBody('user-0', PROFILE));
const login = JSON.stringify(LOGIN_BODY);

function send(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/me') send(res, 200, me);
  else if (req.method === 'POST' && req.url === '/login') {
    req.resume();
    req.on('end', () => send(res, 200, login));
  } else send(res, 404, '{"error":"not found"}');
});
listen(server);
