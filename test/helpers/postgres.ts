/**
 * Throw-away databases on the machine's PostgreSQL (127.0.0.1:5432, user postgres, trust auth) and
 * Redis (127.0.0.1:6379): each test creates its own and removes it after, whatever it left inside.
 */
import { execa } from 'execa';

export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
export const PG_USER = 'postgres';

async function psql(sql: string): Promise<void> {
  const result = await execa('psql', ['-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-v', 'ON_ERROR_STOP=1', '-c', sql], { reject: false, all: true, timeout: 60_000 });
  if (result.exitCode !== 0) throw new Error(`psql -c ${JSON.stringify(sql)} failed (exit ${result.exitCode}); is PostgreSQL up on ${PG_HOST}:${PG_PORT} (pg_isready)?\n${String(result.all)}`);
}

export interface TestDatabase {
  name: string;
  /** postgresql://postgres@127.0.0.1:5432/<name> */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database (one of the same name from an earlier, killed run is dropped first). */
export async function createDatabase(name: string): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await psql(`CREATE DATABASE ${name}`);
  return { name, url: `postgresql://${PG_USER}@${PG_HOST}:${PG_PORT}/${name}`, drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function redis(db: number, ...args: string[]): Promise<string> {
  const result = await execa('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '-n', String(db), ...args], { reject: false, all: true, timeout: 30_000 });
  if (result.exitCode !== 0) throw new Error(`redis-cli ${args.join(' ')} failed (exit ${result.exitCode}); is Redis up on 127.0.0.1:6379 (redis-cli ping)?\n${String(result.all)}`);
  return String(result.stdout).trim();
}

export interface TestRedis {
  db: number;
  /** redis://127.0.0.1:6379/<db> */
  url: string;
  /** Empties the database this test used (it was empty when taken). */
  flush(): Promise<void>;
}

/** A Redis database number no one uses (empty), from the top down so the usual 0 is left alone. */
export async function emptyRedisDb(): Promise<TestRedis> {
  for (let db = 15; db >= 1; db--) {
    if ((await redis(db, 'DBSIZE')) === '0') return { db, url: `redis://127.0.0.1:6379/${db}`, flush: async () => void (await redis(db, 'FLUSHDB')) };
  }
  throw new Error('every Redis database from 1 to 15 holds keys; none is free for the test');
}
