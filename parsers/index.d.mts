// Types for `import ... from 'node-ipc-rs/parsers'` (the same declarations as index.d.ts).
export * from './index.js';
export { Parser as default } from './index.js';
