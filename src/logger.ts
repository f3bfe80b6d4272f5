/** Structured log lines as pino writes them (fields, then the message): Fastify's logger and its children. */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
