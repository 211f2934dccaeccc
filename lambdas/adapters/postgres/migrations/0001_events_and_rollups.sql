-- Raw events, exactly-once keys and rollups. See docs/data-model.md for the why of each choice.
-- Timestamps are timestamptz; every hour/day bucket is computed in UTC explicitly, never from the
-- session TimeZone (a SET would pin RDS Proxy sessions).

-- Raw events, one range partition per UTC day of the event time. No DEFAULT partition: it would
-- block creating that day's partition later. Partitions are created ahead by maintenance and on
-- demand by the writer (firehose_ensure_partitions).
CREATE TABLE events (
  account_id  text        NOT NULL,
  event_id    text        NOT NULL,
  user_id     text        NOT NULL,
  type        text        NOT NULL,
  event_time  timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  metadata    jsonb
) PARTITION BY RANGE (event_time);

-- Exactly-once: a partitioned table's unique keys must include the partition key, so the
-- (account_id, event_id) identity lives here. A key exists exactly when its event row exists (both
-- are inserted by the same statement), so keys are pruned by joining the partition being dropped.
-- An event_id keeps its first timestamp: a later delivery with another timestamp is a duplicate.
CREATE TABLE event_keys (
  account_id text NOT NULL,
  event_id   text NOT NULL,
  PRIMARY KEY (account_id, event_id)
);

-- Rollups, maintained in the writer's transaction from the rows it actually inserted.
-- Monthly partitions keep 400 days of rollups cheap to expire (DROP instead of DELETE).
CREATE TABLE rollup_type_hourly (
  account_id text        NOT NULL,
  hour       timestamptz NOT NULL,
  type       text        NOT NULL,
  events     bigint      NOT NULL,
  PRIMARY KEY (account_id, hour, type)
) PARTITION BY RANGE (hour);

-- Per-user counts per hour: exact counts for the partial days at a window's edges.
CREATE TABLE rollup_user_hourly (
  account_id text        NOT NULL,
  user_id    text        NOT NULL,
  hour       timestamptz NOT NULL,
  events     bigint      NOT NULL,
  PRIMARY KEY (account_id, user_id, hour)
) PARTITION BY RANGE (hour);

-- Per-user counts per day: exact counts for whole days, and, through the (day, events DESC) index,
-- the sorted lists the top-users search reads a few rows of instead of every user.
CREATE TABLE rollup_user_daily (
  account_id text   NOT NULL,
  user_id    text   NOT NULL,
  day        date   NOT NULL,
  events     bigint NOT NULL,
  PRIMARY KEY (account_id, user_id, day)
) PARTITION BY RANGE (day);
CREATE INDEX rollup_user_daily_top ON rollup_user_daily (account_id, day, events DESC, user_id);

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
  account_id text        NOT NULL,
  event_id   text        NOT NULL,
  event_time timestamptz NOT NULL,
  reason     text        NOT NULL,
  message_id text        NOT NULL,
  skipped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, event_id, reason)
);

-- Creates the missing day partitions of events (and the month partitions of the rollups covering
-- them) for [p_from, p_to]. SECURITY DEFINER so the writer role can call it without owning tables.
-- An advisory lock serialises concurrent callers; existing partitions are left alone.
CREATE FUNCTION firehose_ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  d date;
  m date;
  created integer := 0;
  rollup text;
BEGIN
  IF p_to < p_from OR p_to - p_from > 400 THEN
    RAISE EXCEPTION 'firehose_ensure_partitions: bad range % .. %', p_from, p_to;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('firehose.partitions'));
  d := p_from;
  WHILE d <= p_to LOOP
    IF to_regclass(format('public.events_p%s', to_char(d, 'YYYYMMDD'))) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE public.%I PARTITION OF public.events FOR VALUES FROM (%L) TO (%L)',
        'events_p' || to_char(d, 'YYYYMMDD'),
        d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
    m := date_trunc('month', d)::date;
    FOREACH rollup IN ARRAY ARRAY['rollup_type_hourly', 'rollup_user_hourly'] LOOP
      IF to_regclass(format('public.%s_p%s', rollup, to_char(m, 'YYYYMM'))) IS NULL THEN
        EXECUTE format(
          'CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES FROM (%L) TO (%L)',
          rollup || '_p' || to_char(m, 'YYYYMM'), rollup,
          m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        created := created + 1;
      END IF;
    END LOOP;
    IF to_regclass(format('public.rollup_user_daily_p%s', to_char(m, 'YYYYMM'))) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE public.%I PARTITION OF public.rollup_user_daily FOR VALUES FROM (%L) TO (%L)',
        'rollup_user_daily_p' || to_char(m, 'YYYYMM'), m, (m + interval '1 month')::date);
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
