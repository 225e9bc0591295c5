#!/usr/bin/env node
/** The `ptimer` binary. Everything is in cli.ts; this file only runs it and exits with its code. */
import { main } from './cli.js';

const code = await main(process.argv.slice(2));
process.exit(code);
