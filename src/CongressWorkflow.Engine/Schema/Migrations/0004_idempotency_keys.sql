-- A command sent with an Idempotency-Key: written in the command's own transaction, so a retry finds the first
-- answer and concurrent duplicates wait for the first to commit and then append nothing.
CREATE TABLE congress.idempotency_keys (
    user_id          text        NOT NULL,
    key              text        NOT NULL,
    request_hash     bytea       NOT NULL,
    stream_id        text        NOT NULL,
    version          bigint      NOT NULL,
    events           text[]      NOT NULL,
    response_status  integer,
    response_body    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON congress.idempotency_keys (created_at);
