/**
 * Pub/Sub commands (being written).
 *
 * @module
 */

import type { Command } from "./table.ts";

export const pubsubCommands: Command[] = [];
