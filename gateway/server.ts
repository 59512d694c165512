/**
 * Wires the gateway together: transports → parser → transactions → core. (Lead engineer's file.)
 */
export interface Gateway {
  /** Human-readable lines describing where the gateway listens. */
  readonly listening: string[];
  stop(): Promise<void>;
}
