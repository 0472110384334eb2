-- One row per (tenant, user, event, item): the event's current value. A delete removes the row.
create table event (
    tenant text not null,
    user_id text not null,
    event text not null,
    item_type text not null,
    item_id text not null,
    value jsonb,
    origin text not null check (origin in ('api', 'live')),
    -- From one sequence, so a key's versions keep rising across a delete and a new set.
    version bigint not null,
    at timestamptz not null,
    primary key (tenant, user_id, event, item_type, item_id)
) with (fillfactor = 90);  -- room on each page, so a new value for a key is a HOT update: no index write

-- GET without ids (a user's items with one event, newest first) finds them by the primary key's
-- prefix and sorts them: no second index to maintain on every write, the path that has to be fast.
create sequence event_version;
