-- Deadlines and their notifications. All written inline (in the transaction of the command or sweep that causes them).

-- Each congress's deadlines, re-derived from its state by every command on it (CongressDeadlines.Derive).
-- next_step_on is when the sweep must look at a deadline again, so a sweep touches only what is due.
CREATE TABLE congress.deadlines (
    congress_id      text    NOT NULL,
    milestone        text    NOT NULL,
    due_on           date    NOT NULL,
    campaign_id      text    NOT NULL,
    organization_id  text    NOT NULL,
    responsible_id   text    NOT NULL,
    plan_document    text,
    effective_from   date    NOT NULL,
    effective_until  date,
    is_met           boolean NOT NULL,
    met_on           date,
    closed_reason    text,
    last_step_on     date,
    next_step_on     date,
    PRIMARY KEY (congress_id, milestone, due_on)
);
CREATE INDEX deadlines_next_step ON congress.deadlines (next_step_on) WHERE next_step_on IS NOT NULL;
CREATE INDEX deadlines_organization ON congress.deadlines (campaign_id, organization_id);

CREATE TABLE congress.deadline_policies (
    campaign_id  text   PRIMARY KEY,
    policy       jsonb  NOT NULL,
    reason       text   NOT NULL,
    set_by       text   NOT NULL,
    set_at       timestamptz NOT NULL
);

-- The notification ledger: one row per step recorded (sent or skipped), keyed by its deterministic id.
CREATE TABLE congress.notifications (
    notification_id  uuid    PRIMARY KEY,
    campaign_id      text    NOT NULL,
    congress_id      text    NOT NULL,
    organization_id  text    NOT NULL,
    milestone        text    NOT NULL,
    due_on           date    NOT NULL,
    step_key         text    NOT NULL,
    step             text,
    status           text    NOT NULL,
    scheduled_on     date    NOT NULL,
    on_day           date    NOT NULL,
    late             boolean NOT NULL DEFAULT false,
    days_left        integer,
    plan_document    text,
    recipients       text[]  NOT NULL DEFAULT '{}',
    reason           text,
    stream_id        text    NOT NULL,
    recorded_at      timestamptz NOT NULL
);
CREATE INDEX notifications_organization ON congress.notifications (campaign_id, organization_id, on_day);
CREATE INDEX notifications_day ON congress.notifications (campaign_id, on_day);

-- Every delivery of a notification (or of an event notice) through a channel, and what became of it.
CREATE TABLE congress.deliveries (
    delivery_id      uuid    PRIMARY KEY,
    notification_id  uuid,
    channel          text    NOT NULL,
    target           text    NOT NULL,
    status           text    NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    delivered_at     timestamptz
);
CREATE INDEX deliveries_notification ON congress.deliveries (notification_id);
CREATE INDEX deliveries_dead ON congress.deliveries (updated_at) WHERE status = 'dead-lettered';

-- The in-app inbox of each organisation; item_id is the delivery id, so a repeated delivery adds nothing.
CREATE TABLE congress.inbox (
    item_id          uuid    PRIMARY KEY,
    seq              bigint  GENERATED ALWAYS AS IDENTITY UNIQUE,
    organization_id  text    NOT NULL,
    notification_id  uuid,
    kind             text    NOT NULL,
    title            text    NOT NULL,
    body             text    NOT NULL,
    congress_id      text,
    created_at       timestamptz NOT NULL,
    read_at          timestamptz
);
CREATE INDEX inbox_organization ON congress.inbox (organization_id, seq);

CREATE TABLE congress.contacts (
    organization_id  text NOT NULL,
    role             text NOT NULL,
    email            text NOT NULL,
    name             text,
    language         text NOT NULL,
    PRIMARY KEY (organization_id, role, email)
);

CREATE TABLE congress.subscriptions (
    subscription_id       text PRIMARY KEY,
    channel               text NOT NULL,
    root_organization_id  text NOT NULL,
    url                   text,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL,
    removed_at            timestamptz
);

-- Webhook signing secrets stay out of the event store (events are exported and never change).
CREATE TABLE congress.webhook_secrets (
    subscription_id  text PRIMARY KEY REFERENCES congress.subscriptions (subscription_id),
    secret           text NOT NULL
);
