// Types for `import ... from 'node-ipc-rs/parsers/message'`.
export * from './message.js';
export { MessageParser as default } from './message.js';
