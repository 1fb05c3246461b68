// Bare Express (defaults), the baseline of every Express-based variant.
import { createServer } from 'node:http';
import express from 'express';
import { listen, LOGIN_BODY, meBody, PROFILE } from './common.mjs';

const app = express();
app.get('/me', (req, res) => {
  res.json(meBody('user-0', PROFILE));
});
app.post('/login', (req, res) => {
  res.json(LOGIN_BODY);
});
listen(createServer(app));
