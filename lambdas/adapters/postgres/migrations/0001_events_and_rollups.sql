-- Raw events, exactly-once keys and rollups. See docs/data-model.md for the why of each choice.
-- Timestamps are timestamptz; every hour/day bucket is computed in UTC explicitly, never from the
-- session TimeZone (a SET would pin RDS Proxy sessions).

-- Raw events, one range partition per UTC day of the event time. No DEFAULT partition: it would
-- block creating that day's partition later. Partitions are created ahead by maintenance and on
-- demand by the writer (firehose_ensure_partitions).
CREATE TABLE events (
  account_id  text COLLATE "C"        NOT NULL,
  event_id    text COLLATE "C"        NOT NULL,
  user_id     text COLLATE "C"        NOT NULL,
  type        text COLLATE "C"        NOT NULL,
  event_time  timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  metadata    jsonb
) PARTITION BY RANGE (event_time);

-- Exactly-once: a partitioned table's unique keys must include the partition key, so the
-- (account_id, event_id) identity lives here. A key exists exactly when its event row exists (both
-- are inserted by the same statement), so keys are pruned by joining the partition being dropped.
-- An event_id keeps its first timestamp: a later delivery with another timestamp is a duplicate.
CREATE TABLE event_keys (
  account_id text COLLATE "C" NOT NULL,
  event_id   text COLLATE "C" NOT NULL,
  PRIMARY KEY (account_id, event_id)
);

-- Rollups, maintained in the writer's transaction from the rows it actually inserted. One row per
-- (account, day, user) and per (account, day, type), each with its 24 hourly counts as columns:
-- one upsert serves both the daily and the hourly resolution, half the work of separate hourly and
-- daily tables (docs/benchmarks.md), and a window reads one row per day instead of one per hour.
-- Hour columns are integers: tier limits cap an account far below 2^31 events per hour; daily
-- totals are bigint. Not partitioned (tuple routing costs ~15% of the writer's time); 400 days of
-- rollups expire by a daily DELETE found through small BRIN indexes.
CREATE TABLE rollup_user_day (
  account_id text COLLATE "C"   NOT NULL,
  user_id    text COLLATE "C"   NOT NULL,
  day        date   NOT NULL,
  events     bigint NOT NULL,
  h00 integer NOT NULL DEFAULT 0,
  h01 integer NOT NULL DEFAULT 0,
  h02 integer NOT NULL DEFAULT 0,
  h03 integer NOT NULL DEFAULT 0,
  h04 integer NOT NULL DEFAULT 0,
  h05 integer NOT NULL DEFAULT 0,
  h06 integer NOT NULL DEFAULT 0,
  h07 integer NOT NULL DEFAULT 0,
  h08 integer NOT NULL DEFAULT 0,
  h09 integer NOT NULL DEFAULT 0,
  h10 integer NOT NULL DEFAULT 0,
  h11 integer NOT NULL DEFAULT 0,
  h12 integer NOT NULL DEFAULT 0,
  h13 integer NOT NULL DEFAULT 0,
  h14 integer NOT NULL DEFAULT 0,
  h15 integer NOT NULL DEFAULT 0,
  h16 integer NOT NULL DEFAULT 0,
  h17 integer NOT NULL DEFAULT 0,
  h18 integer NOT NULL DEFAULT 0,
  h19 integer NOT NULL DEFAULT 0,
  h20 integer NOT NULL DEFAULT 0,
  h21 integer NOT NULL DEFAULT 0,
  h22 integer NOT NULL DEFAULT 0,
  h23 integer NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, user_id, day)
);
-- Sorted per-day lists: the top-users search reads a few rows of each instead of every user.
CREATE INDEX rollup_user_day_top ON rollup_user_day (account_id, day, events DESC, user_id);
CREATE INDEX rollup_user_day_expiry ON rollup_user_day USING brin (day);

CREATE TABLE rollup_type_day (
  account_id text COLLATE "C"   NOT NULL,
  day        date   NOT NULL,
  type       text COLLATE "C"   NOT NULL,
  events     bigint NOT NULL,
  h00 integer NOT NULL DEFAULT 0,
  h01 integer NOT NULL DEFAULT 0,
  h02 integer NOT NULL DEFAULT 0,
  h03 integer NOT NULL DEFAULT 0,
  h04 integer NOT NULL DEFAULT 0,
  h05 integer NOT NULL DEFAULT 0,
  h06 integer NOT NULL DEFAULT 0,
  h07 integer NOT NULL DEFAULT 0,
  h08 integer NOT NULL DEFAULT 0,
  h09 integer NOT NULL DEFAULT 0,
  h10 integer NOT NULL DEFAULT 0,
  h11 integer NOT NULL DEFAULT 0,
  h12 integer NOT NULL DEFAULT 0,
  h13 integer NOT NULL DEFAULT 0,
  h14 integer NOT NULL DEFAULT 0,
  h15 integer NOT NULL DEFAULT 0,
  h16 integer NOT NULL DEFAULT 0,
  h17 integer NOT NULL DEFAULT 0,
  h18 integer NOT NULL DEFAULT 0,
  h19 integer NOT NULL DEFAULT 0,
  h20 integer NOT NULL DEFAULT 0,
  h21 integer NOT NULL DEFAULT 0,
  h22 integer NOT NULL DEFAULT 0,
  h23 integer NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day, type)
);
CREATE INDEX rollup_type_day_expiry ON rollup_type_day USING brin (day);

-- Queue messages whose events are committed, written in the same transaction as the events. The
-- freshness watermark (docs/freshness.md) uses it to tell a committed message from one still in
-- flight when the DynamoDB ledger could not be updated; it also short-cuts full redeliveries.
CREATE TABLE committed_messages (
  message_key  text COLLATE "C"        PRIMARY KEY,
  account_id   text COLLATE "C"        NOT NULL,
  received_at  timestamptz NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX committed_messages_committed_at ON committed_messages (committed_at);

-- Why an SQS message could not be written (operators read this before re-driving the DLQ).
CREATE TABLE message_failures (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id    text        NOT NULL,
  receive_count integer     NOT NULL,
  error_code    text        NOT NULL,
  error         text        NOT NULL,
  body_excerpt  text,
  failed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_failures_message ON message_failures (message_id, failed_at);

-- Events the writer could not store because their day lies outside the stored range (older than
-- raw retention, or beyond the partitions kept ahead). They stay in the S3 archive; they are not
-- counted in rollups. Recorded once per (account, event, reason).
CREATE TABLE skipped_events (
  account_id text COLLATE "C"        NOT NULL,
  event_id   text COLLATE "C"        NOT NULL,
  event_time timestamptz NOT NULL,
  reason     text COLLATE "C"        NOT NULL,
  message_id text COLLATE "C"        NOT NULL,
  skipped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, event_id, reason)
);

-- Creates the missing day partitions of events for [p_from, p_to]. SECURITY DEFINER so the writer
-- role can call it without owning the table. An advisory lock serialises concurrent callers;
-- existing partitions are left alone.
CREATE FUNCTION firehose_ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  d date := p_from;
  created integer := 0;
BEGIN
  IF p_to < p_from OR p_to - p_from > 400 THEN
    RAISE EXCEPTION 'firehose_ensure_partitions: bad range % .. %', p_from, p_to;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('firehose.partitions'));
  WHILE d <= p_to LOOP
    IF to_regclass(format('public.events_p%s', to_char(d, 'YYYYMMDD'))) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE public.%I PARTITION OF public.events FOR VALUES FROM (%L) TO (%L)',
        'events_p' || to_char(d, 'YYYYMMDD'),
        d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
    d := d + 1;
  END LOOP;
  RETURN created;
END;
$$;

-- The days that currently have an events partition (the writer caches this list).
CREATE FUNCTION firehose_event_partition_days() RETURNS SETOF date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT to_date(substr(c.relname, 9), 'YYYYMMDD')
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'public.events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
  ORDER BY 1;
$$;
