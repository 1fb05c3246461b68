// Express 4 is installed under the alias `express4` to run the adapter tests against both
// majors; its API surface used there is the same as Express 5's.
declare module 'express4' {
  import express from 'express';
  export default express;
}
