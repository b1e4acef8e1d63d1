/**
 * The errors that stop start-up while data is loaded, in a module of their
 * own so the AOF loader and the RDB loader (which load each other's part of
 * a preamble AOF) can both throw them without importing each other first.
 *
 * Start-up treats them alike: the message is logged and the process exits
 * with status 1, leaving the file as it is.
 *
 * @module
 */

/** Start-up must stop: the AOF is damaged, or cut off with aof-load-truncated no. */
export class AofLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AofLoadError";
  }
}

/** Start-up must stop: RDB data (dump.rdb or an AOF preamble) cannot be loaded. */
export class RdbLoadError extends AofLoadError {
  constructor(message: string) {
    super(message);
    this.name = "RdbLoadError";
  }
}
