-- The retention floor: the first day events may be stored on. Maintenance raises it, never lowers
-- it, before it drops a day, and no day before it is ever created again. A dropped day's
-- exactly-once keys went with it, so recreating the day would count a redelivered (or re-driven, or
-- replayed) event a second time; without the floor, a writer with a longer retention setting or a
-- clock behind maintenance's would do just that.
CREATE TABLE event_retention (
  only_row       boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  first_kept_day date    NOT NULL
);
-- On an existing database, days may already be gone: a day that has rollups (kept 400 days) but no
-- attached partition was written and then dropped. The floor starts after the latest such day.
INSERT INTO event_retention (first_kept_day)
SELECT coalesce(max(d)::date + 1, date '1970-01-01')
FROM generate_series(current_date - 400, current_date, interval '1 day') AS d
WHERE EXISTS (SELECT 1 FROM rollup_type_day r WHERE r.day = d::date)
  AND NOT EXISTS (
    SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'public.events'::regclass AND c.relname = 'events_p' || to_char(d, 'YYYYMMDD'));
GRANT SELECT ON event_retention TO firehose_writer;

-- Raises the floor to p_day (if it is higher) and returns the floor. Takes the partition lock, so
-- a writer creating partitions sees either the old floor and day, or the new floor.
CREATE FUNCTION firehose_raise_retention_floor(p_day date) RETURNS date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  floor_day date;
BEGIN
  -- Past days only: a floor beyond today would set every event aside, for good.
  IF p_day > current_date THEN
    RAISE EXCEPTION 'firehose_raise_retention_floor: % is after today', p_day;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('firehose.partitions'));
  UPDATE event_retention SET first_kept_day = greatest(first_kept_day, p_day)
  RETURNING first_kept_day INTO floor_day;
  RETURN floor_day;
END;
$$;
-- Maintenance only (the owner): a function role must never move the floor.
REVOKE EXECUTE ON FUNCTION firehose_raise_retention_floor(date) FROM PUBLIC;

-- As before, but days before the floor are never created (callers plan with the floor; this is the
-- guarantee for any that do not). Creating a partition waits for a concurrent detach by maintenance
-- (both lock `events`): the lock timeout turns a long wait into an error the writer retries, instead
-- of every writer queueing behind the advisory lock until its statement timeout.
CREATE OR REPLACE FUNCTION firehose_ensure_partitions(p_from date, p_to date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET lock_timeout = '2s' AS $$
DECLARE
  d date;
  created integer := 0;
BEGIN
  IF p_to < p_from OR p_to - p_from > 400 THEN
    RAISE EXCEPTION 'firehose_ensure_partitions: bad range % .. %', p_from, p_to;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('firehose.partitions'));
  SELECT greatest(p_from, first_kept_day) INTO d FROM event_retention;
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
