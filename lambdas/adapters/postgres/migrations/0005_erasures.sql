-- Erasures (design promise 8): a deleted tenant or a user's erased events. Each row is both the
-- audit record of one request and a tombstone the writer reads: events of the account (and user)
-- received before `erased_before` that are still in flight (queue, DLQ, an archive replay) are
-- dropped instead of written, so an erasure cannot be undone by a delivery that was on its way.
-- The user is kept only as a SHA-256 digest: the record proves what was erased without keeping who.
CREATE TABLE erasures (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id    text COLLATE "C" NOT NULL,
  -- NULL: the whole account.
  user_sha256   bytea,
  erased_before timestamptz NOT NULL,
  requested_by  text        NOT NULL,
  reason        text,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  -- What was removed, per store (events, rollup rows, archive objects, cache entries, ...).
  removed       jsonb       NOT NULL DEFAULT '{}',
  -- Progress of the removal in PostgreSQL, one day partition per transaction, so that a large one
  -- can span several invocations: the last day done, and whether the rest (keys, rollups) is done.
  removed_through date,
  rows_removed  boolean     NOT NULL DEFAULT false
);
CREATE INDEX erasures_account ON erasures (account_id);

GRANT SELECT ON erasures TO firehose_writer;
