-- Bound what each function's statements may cost the database (design promise 5). A Lambda that
-- times out leaves its statement running; the role's own timeout ends it shortly after. Set on the
-- roles, not with SET in the session, so RDS Proxy never pins a connection for it. Each is a little
-- below its function's timeout (stage config: writer 30 s, summary 10 s).
ALTER ROLE firehose_writer SET statement_timeout = '25s';
ALTER ROLE firehose_writer SET idle_in_transaction_session_timeout = '60s';
ALTER ROLE firehose_reader SET statement_timeout = '9s';
ALTER ROLE firehose_reader SET idle_in_transaction_session_timeout = '30s';
