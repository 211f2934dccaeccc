-- One PostgreSQL role per function, with only the rights it needs (design promise 5). Roles are
-- cluster-wide, so creating them tolerates another database (or a racing runner) having done it.
-- On RDS/Aurora the roles log in through RDS Proxy with IAM authentication (rds_iam).
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['firehose_writer', 'firehose_reader'] LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', role_name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam') THEN
      EXECUTE format('GRANT rds_iam TO %I', role_name);
    END IF;
  END LOOP;
END;
$$;

-- The writer inserts events, keys and failures, and upserts rollups. It reads nothing else.
GRANT SELECT, INSERT ON event_keys TO firehose_writer;
GRANT SELECT, INSERT ON events TO firehose_writer;
GRANT SELECT, INSERT, UPDATE ON rollup_user_day, rollup_type_day TO firehose_writer;
GRANT SELECT, INSERT ON message_failures, skipped_events, committed_messages TO firehose_writer;
REVOKE EXECUTE ON FUNCTION firehose_ensure_partitions(date, date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION firehose_event_partition_days() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION firehose_ensure_partitions(date, date) TO firehose_writer;
GRANT EXECUTE ON FUNCTION firehose_event_partition_days() TO firehose_writer;

-- The summary function reads rollups, and committed message keys for its freshness watermark.
GRANT SELECT ON rollup_user_day, rollup_type_day, committed_messages TO firehose_reader;
