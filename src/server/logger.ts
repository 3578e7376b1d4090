import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.js';

/**
 * The process logger (JSON lines on stdout). Connections log through child loggers
 * tagged with conn, tenant, user and app. Nothing logs a password, SCRAM data or a
 * row; the redaction below is a second line of defence should a field slip in.
 */
export function createLogger(level: Config['logLevel'], destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['password', '*.password', 'scram', '*.scram', 'clientProof', '*.clientProof', 'secretKey', '*.secretKey'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
