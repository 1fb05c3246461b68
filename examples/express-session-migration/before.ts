// Before: Passport 0.7 + passport-local on express-session. README.md: how to run it.
import express from 'express';
import expressSession, { MemoryStore } from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
declare module 'express-session' {
  interface SessionData {
    returnTo: string; // where /account sends the visitor back after signing in
    messages: string[]; // Passport's failureMessage
  }
}
const alice = { id: '1', username: 'alice', password: 'correct horse battery staple' };
type User = typeof alice; // yours: a users table, with scrypt password hashes
passport.use(
  new LocalStrategy((username, password, done) => {
    if (username === alice.username && password === alice.password) return done(null, alice);
    done(null, false, { message: 'Wrong username or password.' });
  }),
);
passport.serializeUser((user, done) => done(null, (user as User).id));
passport.deserializeUser((id, done) => done(null, id === alice.id ? alice : false));
const port = Number(process.env.PORT ?? 3000);
const session = expressSession({
  store: new MemoryStore(), // what the app used: express-session's default, one process only
  secret: process.env.SESSION_SECRET ?? 'keyboard cat',
  resave: false,
  saveUninitialized: false,
});
const app = express();
app.use(session, express.urlencoded({ extended: false }), passport.session() as express.Handler);
app.get('/login', (req, res) => {
  res.send(`<p>${req.session.messages?.pop() ?? ''}</p><form method="post" action="/login/password">
    <input name="username"><input name="password" type="password"><button>Sign in</button></form>`);
});
app.post(
  '/login/password',
  passport.authenticate('local', {
    successReturnToOrRedirect: '/account',
    failureRedirect: '/login',
    failureMessage: true,
    keepSessionInfo: true, // keeps returnTo across the new session a login starts
  }) as express.Handler, // @types/passport types its middleware as any
);
app.get('/account', (req, res) => {
  if (!req.user) {
    req.session.returnTo = req.originalUrl;
    return res.redirect('/login');
  }
  res.send(`Signed in as ${(req.user as User).username} <form method="post" action="/logout">
    <button>Sign out</button></form>`);
});
app.post('/logout', (req, res, next) => {
  req.logout((error) => (error ? next(error) : res.redirect('/login')));
});
app.listen(port, () => console.log(`Listening on http://localhost:${port}/login`));
