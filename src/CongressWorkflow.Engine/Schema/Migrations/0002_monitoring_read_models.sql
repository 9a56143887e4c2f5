-- Asynchronous read models for monitoring, owned by the projections "progress" and "approval-audit".
-- Milestones are stored with their dates so that "as of any day" is an aggregate, not a replay.

-- The tree as the progress projection sees it, with when each unit came and went. unit_key is the global
-- position of the registration event, so a rebuild reproduces every row exactly.
CREATE TABLE congress.rollup_units (
    organization_id  text        PRIMARY KEY,
    unit_key         bigint      NOT NULL UNIQUE,
    parent_id        text,
    name             text        NOT NULL,
    level            smallint    NOT NULL,
    path             ltree       NOT NULL,
    registered_at    timestamptz NOT NULL,
    dissolved_at     timestamptz
);
CREATE INDEX rollup_units_path ON congress.rollup_units USING gist (path);
CREATE INDEX rollup_units_parent ON congress.rollup_units (parent_id);

CREATE TABLE congress.rollup_congresses (
    congress_id      text     PRIMARY KEY,
    campaign_id      text     NOT NULL,
    organization_id  text     NOT NULL,
    is_pilot         boolean  NOT NULL,
    submitted_on     date,
    approved_on      date,
    held_on          date,
    days_late        integer,
    exempted         boolean,
    CONSTRAINT rollup_congresses_one_per_unit UNIQUE (campaign_id, organization_id)
);

-- Every version of every congress's plan: the one in force on a day is the latest effective by then.
CREATE TABLE congress.rollup_plans (
    congress_id               text     NOT NULL,
    version                   integer  NOT NULL,
    document                  text     NOT NULL,
    effective_on              date     NOT NULL,
    planned_date              date     NOT NULL,
    window_end                date     NOT NULL,
    subordinate_window_end    date,
    PRIMARY KEY (congress_id, version)
);
CREATE INDEX rollup_plans_in_force ON congress.rollup_plans (congress_id, effective_on DESC, version DESC);

-- Who submitted, approved, returned, recognised or exempted what, when, citing which document, from which event.
CREATE TABLE congress.approval_audit (
    global_position  bigint      PRIMARY KEY,
    event_id         uuid        NOT NULL,
    stream_id        text        NOT NULL,
    stream_version   bigint      NOT NULL,
    congress_id      text        NOT NULL,
    campaign_id      text        NOT NULL,
    organization_id  text        NOT NULL,
    action           text        NOT NULL,
    round            integer,
    by_organization  text        NOT NULL,
    by_user          text        NOT NULL,
    by_role          text        NOT NULL,
    document         text,
    comments         text,
    occurred_on      date        NOT NULL,
    recorded_at      timestamptz NOT NULL
);
CREATE INDEX approval_audit_congress ON congress.approval_audit (congress_id, global_position);
CREATE INDEX approval_audit_campaign ON congress.approval_audit (campaign_id, occurred_on);

CREATE TABLE congress.audit_congresses (
    congress_id      text PRIMARY KEY,
    campaign_id      text NOT NULL,
    organization_id  text NOT NULL
);
