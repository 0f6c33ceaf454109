// The package version, read once; the engine and its replicas report it.
import fs from 'node:fs';

export const VERSION: string = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
