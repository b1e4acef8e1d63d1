/**
 * MEMORY USAGE's estimate, as the commands see it: the model of Redis 7.0's
 * memory layout lives in the store (store/memory_estimate.ts), because the
 * keyspace sums the same figure into `used_memory` on every write, and is
 * re-exported here for the MEMORY command and its tests.
 *
 * @module
 */

export {
  allocationSize,
  DEFAULT_SAMPLES,
  memoryUsage,
  sdsSize,
  valueMemoryUsage,
} from "../store/memory_estimate.ts";
