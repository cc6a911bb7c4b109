-- Telegram's overall flood limit belongs to the bot, not to one replica: a token bucket on the
-- server that every bot replica takes from (storage/leases.py, take_token). Tokens go below zero
-- as calls book their turn; the time is the server's, so the replicas' clocks need not agree.
CREATE TABLE rate_buckets (
    name    TEXT PRIMARY KEY,
    tokens  DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
