/** Test helper: a real logger writing into memory, so tests assert on the exact output lines. */
import { Writable } from 'node:stream';
import { createLogger, type LoggerConfig, type RootLogger } from '../../gateway/log/logger';

export interface CapturedLogger {
  log: RootLogger;
  /** Closes the logger (flushing every entry) and returns the whole output. */
  output(): Promise<string>;
}

export function captureLogger(cfg: Partial<LoggerConfig> = {}): CapturedLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level: 'debug', format: 'json', debugBodies: false, ...cfg }, { stream });
  return {
    log,
    output: async () => {
      await log.close();
      return chunks.join('');
    },
  };
}

/** Output of a JSON logger, one parsed object per line. */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}
