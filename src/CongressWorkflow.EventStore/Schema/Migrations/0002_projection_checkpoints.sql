-- Where each asynchronous projection has got to, who runs it, and why it stopped if it did.
CREATE TABLE event_store.projection_checkpoints (
    projection         text        PRIMARY KEY,
    position           bigint      NOT NULL DEFAULT 0,
    status             text        NOT NULL DEFAULT 'running',
    error              text,
    failed_position    bigint,
    rebuild_requested  boolean     NOT NULL DEFAULT false,
    owner              text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
