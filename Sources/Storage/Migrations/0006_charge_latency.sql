-- How long the payment provider took to answer each charge request (docs/contract.md, "Operator
-- console": the console's provider latency p50/p99). Null for answers logged before this column. No
-- index: the console's window reads are an operator's page, and an index would cost every charge's
-- insert.
ALTER TABLE charge_attempts ADD COLUMN latency_ms integer;
