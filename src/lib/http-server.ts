/**
 * node:http's `createServer`, loaded with `require` rather than `import`. To build an ES module
 * namespace Node reads every export of a built-in module, and Node 24's node:http exports
 * `WebSocket`, `CloseEvent` and `MessageEvent` as lazy getters over Node's bundled undici: an
 * `import { createServer } from 'node:http'` compiles and runs all of it, about 30 ms of a 750 ms
 * cold start on this machine (docs/performance.md), for classes the gateway never uses. `require`
 * returns the module object and touches none of them. Type-only imports of node:http are free.
 */
import { createRequire } from 'node:module';

export const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
