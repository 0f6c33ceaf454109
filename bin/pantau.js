#!/usr/bin/env node
// `pantau` command: the engine is TypeScript run through tsx, so no build step stands between a
// checkout and a running engine.
import { register } from 'tsx/esm/api';

register();
await import('../engine/cli.ts');
