import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES, stageConfigs } from '../../lib/config/stage-config';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('Migration: function roles', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Partitions are UTC days; current_date is the server's local date (initdb takes TZ), which is
    // within a day of UTC's, so now() has a partition in any time zone.
    await db.pool.query('SELECT firehose_ensure_partitions(current_date - 1, current_date + 1)');
  });
  afterAll(async () => {
    await db.drop();
  });

  async function as(role: string, sql: string, params: unknown[] = []): Promise<void> {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL ROLE ${role}`);
      await client.query(sql, params);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it('lets the writer insert events and keys, upsert rollups and create partitions', async () => {
    await expect(
      as('firehose_writer', "INSERT INTO events VALUES ('a', 'e', 'u', 't', now(), now(), '{}') "),
    ).resolves.toBeUndefined();
    await expect(
      as('firehose_writer', "INSERT INTO event_keys VALUES ('a', 'e') ON CONFLICT DO NOTHING RETURNING *"),
    ).resolves.toBeUndefined();
    await expect(
      as(
        'firehose_writer',
        "INSERT INTO rollup_type_day (account_id, day, type, events) VALUES ('a', current_date, 't', 1) ON CONFLICT (account_id, day, type) DO UPDATE SET events = rollup_type_day.events + 1",
      ),
    ).resolves.toBeUndefined();
    await expect(
      as('firehose_writer', 'SELECT firehose_ensure_partitions(current_date + 1, current_date + 2)'),
    ).resolves.toBeUndefined();
    await expect(
      as('firehose_writer', 'SELECT first_kept_day FROM event_retention'),
    ).resolves.toBeUndefined();
    await expect(as('firehose_writer', 'SELECT erased_before FROM erasures')).resolves.toBeUndefined();
  });

  it('does not let the writer drop, delete or move the retention floor', async () => {
    await expect(as('firehose_writer', 'DELETE FROM events')).rejects.toThrow(/permission denied/);
    await expect(
      as('firehose_writer', 'SELECT firehose_raise_retention_floor(current_date + 30)'),
    ).rejects.toThrow(/permission denied/);
    await expect(
      as('firehose_writer', "UPDATE event_retention SET first_kept_day = '2100-01-01'"),
    ).rejects.toThrow(/permission denied/);
    await expect(as('firehose_writer', 'DROP TABLE rollup_user_day')).rejects.toThrow(/must be owner/);
  });

  it('does not let the writer undo or forge an erasure', async () => {
    await expect(as('firehose_writer', 'DELETE FROM erasures')).rejects.toThrow(/permission denied/);
    await expect(as('firehose_writer', "UPDATE erasures SET erased_before = '1970-01-01'")).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      as(
        'firehose_writer',
        "INSERT INTO erasures (account_id, erased_before, requested_by) VALUES ('a', now(), 'x')",
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('lets the summary role read rollups only', async () => {
    await expect(as('firehose_reader', 'SELECT * FROM rollup_user_day')).resolves.toBeUndefined();
    await expect(as('firehose_reader', 'SELECT * FROM committed_messages')).resolves.toBeUndefined();
    await expect(as('firehose_reader', 'SELECT * FROM events')).rejects.toThrow(/permission denied/);
    await expect(
      as(
        'firehose_reader',
        "INSERT INTO rollup_type_day (account_id, day, type, events) VALUES ('a', current_date, 't', 1)",
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(
      as('firehose_reader', 'SELECT firehose_ensure_partitions(current_date, current_date)'),
    ).rejects.toThrow(/permission denied/);
  });
});

describe('Migration: role timeouts', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('bounds each function role statements below its function timeout', async () => {
    const { rows } = await db.pool.query(
      `SELECT r.rolname, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
       WHERE r.rolname IN ('firehose_writer', 'firehose_reader') ORDER BY 1`,
    );
    const settings = Object.fromEntries(rows.map((row) => [row.rolname, row.setconfig]));
    expect(settings.firehose_reader).toContain('statement_timeout=9s');
    expect(settings.firehose_writer).toContain('statement_timeout=25s');
    // Below the stage config's function timeouts, so the database stops what Lambda abandoned.
    for (const stage of STAGES) {
      expect(stageConfigs[stage].summary.timeoutSeconds).toBeGreaterThan(9);
      expect(stageConfigs[stage].writer.timeoutSeconds).toBeGreaterThan(25);
    }
  });
});
