-- The catalog facts bookmarks need, kept current from the catalog's item topic (shared by all tenants).
create table item_fact (
    item_type text not null check (item_type in ('movie', 'episode')),
    item_id text not null,
    runtime integer,  -- minutes
    programme_id text,
    season integer,
    episode integer,
    deleted boolean not null default false,
    changed_at timestamptz not null,
    primary key (item_type, item_id)
);

-- "Up next": a programme's episodes in order.
create index item_fact_episode_order on item_fact (programme_id, season, episode)
    where item_type = 'episode' and not deleted;

-- The latest progress/seen/hide of each user on each item; a delete stays as a tombstone so an older
-- change replayed later cannot bring the event back (versions come from one rising sequence).
create table user_event (
    tenant text not null,
    user_id text not null,
    item_type text not null,
    item_id text not null,
    event text not null,
    value double precision,
    deleted boolean not null,
    version bigint not null,
    at timestamptz not null,
    primary key (tenant, user_id, item_type, item_id, event)
);

-- Who must be recomputed when the catalog changes an item.
create index user_event_item on user_event (item_type, item_id);

-- The bookmarks as GET answers them, recomputed whenever an event or a catalog fact they depend on changes.
create table bookmark (
    tenant text not null,
    user_id text not null,
    item_type text not null,
    item_id text not null,
    state text not null check (state in ('in_progress', 'up_next')),
    position double precision not null,
    runtime integer,
    updated_at timestamptz not null,
    episode_id text,
    programme_id text,
    season integer,
    episode integer,
    listed boolean not null,
    primary key (tenant, user_id, item_type, item_id)
);

create index bookmark_newest on bookmark (tenant, user_id, updated_at desc, item_type, item_id) where listed;

-- Each channel's schedule, from the catalog's schedule topic.
create table schedule_slot (
    channel_id text not null,
    starts_at timestamptz not null,
    stops_at timestamptz not null,
    item_type text not null,
    item_id text not null,
    programme_id text,
    hd boolean not null default false,
    primary key (channel_id, starts_at)
);

create index schedule_slot_stops on schedule_slot (stops_at);

-- Channel start/end events: the viewing intervals are derived from them, so an end that arrives
-- before its start, or a schedule that arrives after the viewing, is simply taken into the next derivation.
create table viewing_mark (
    tenant text not null,
    user_id text not null,
    at timestamptz not null,
    kind text not null check (kind in ('start', 'end')),
    channel_id text not null,
    received_at timestamptz not null default now(),
    -- The sweeper closed this start at the cap because nothing followed it.
    settled boolean not null default false,
    primary key (tenant, user_id, at, kind, channel_id)
);

create index viewing_mark_channel on viewing_mark (channel_id, at);
create index viewing_mark_open on viewing_mark (at) where kind = 'start' and not settled;
create index viewing_mark_at on viewing_mark (at);

-- What live viewing has already inferred per slot, so a recomputation emits only what is new:
-- `seen` once, `progress` again only when larger.
create table inferred (
    tenant text not null,
    user_id text not null,
    channel_id text not null,
    slot_start timestamptz not null,
    event text not null,
    item_type text not null,
    item_id text not null,
    value double precision not null,
    event_id text not null,
    emitted_at timestamptz not null default now(),
    primary key (tenant, user_id, channel_id, slot_start, event, item_type, item_id)
);

create index inferred_slot_start on inferred (slot_start);
