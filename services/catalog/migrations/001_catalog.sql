-- The shared catalog: no tenant column, every tenant reads the same metadata.
-- `content` columns hold an entity's canonical stored form; a write whose content is unchanged
-- changes no row (`is distinct from`) and so publishes nothing.

create table source (
    id text primary key,
    content jsonb not null,
    updated_at timestamptz not null default now()
);

create table person (
    id text primary key,
    name text not null
);
create index person_name on person (name);

-- Movie and TV categories are distinct namespaces, as in the original API.
create table category (
    kind text not null check (kind in ('movie', 'programme')),
    id text not null,
    name text not null,
    primary key (kind, id)
);
create index category_name on category (kind, lower(name));

create table item (
    type text not null check (type in ('movie', 'programme', 'episode')),
    id text not null,
    title text,
    match_title text,  -- normalized title, for matching EPG programmes
    year integer,
    runtime integer,  -- minutes
    programme_id text,
    season integer,
    episode integer,
    programme_type text generated always as (case when programme_id is not null then 'programme' end) stored,
    content jsonb not null,
    -- The public shape without instances, as last published: reads add the instances available now.
    -- Kept as json (text as written) so it goes out as it is, key order included.
    shape json,
    updated_at timestamptz not null default now(),
    primary key (type, id),
    foreign key (programme_type, programme_id) references item (type, id) on delete cascade,
    check ((type = 'episode') = (programme_id is not null))
);
create index item_match_title on item (type, match_title);
create index item_episodes on item (programme_id, season, episode) where type = 'episode';

create table item_person (
    item_type text not null,
    item_id text not null,
    role text not null check (role in ('director', 'actor')),
    person_id text not null references person (id),
    primary key (item_type, item_id, role, person_id),
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index item_person_person on item_person (person_id);

create table item_category (
    item_type text not null,
    item_id text not null,
    kind text not null,
    category_id text not null,
    primary key (item_type, item_id, category_id),
    foreign key (item_type, item_id) references item (type, id) on delete cascade,
    foreign key (kind, category_id) references category (kind, id)
);
create index item_category_category on item_category (kind, category_id);

-- External identifiers (imdb, rt, tvdb, XMLTV dd_progid...): one item of a type per identifier.
create table item_external_id (
    system text not null,
    value text not null,
    item_type text not null,
    item_id text not null,
    primary key (system, value, item_type),
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index item_external_id_item on item_external_id (item_type, item_id);

-- One instance per (item, source). `gone_announced` is true once "not available" was the last
-- thing published about it (expired, or written already expired), so expiry is announced once.
create table instance (
    item_type text not null,
    item_id text not null,
    source_id text not null references source (id) on delete cascade,
    price_rent integer,
    price_rent_hd integer,
    price_buy integer,
    price_buy_hd integer,
    expires timestamptz,
    url text,
    extra jsonb not null default '{}',
    gone_announced boolean not null default false,
    updated_at timestamptz not null default now(),
    primary key (item_type, item_id, source_id),
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index instance_source on instance (source_id);
create index instance_expiring on instance (expires) where not gone_announced and expires is not null;

create table channel (
    id text primary key,
    xmltv_id text unique,
    number integer,
    content jsonb not null,
    updated_at timestamptz not null default now()
);

create table slot (
    channel_id text not null references channel (id) on delete cascade,
    start timestamptz not null,
    stop timestamptz not null,
    item_type text not null,
    item_id text not null,
    hd boolean not null default false,
    primary key (channel_id, start),
    foreign key (item_type, item_id) references item (type, id) on delete cascade,
    check (stop > start)
);
create index slot_channel_stop on slot (channel_id, stop);
create index slot_item on slot (item_type, item_id);

create table sport (
    id text primary key,
    content jsonb not null
);

create table team (
    sport_id text not null references sport (id) on delete cascade,
    id text not null,
    content jsonb not null,
    primary key (sport_id, id)
);

create table sport_item (
    sport_id text not null references sport (id) on delete cascade,
    item_type text not null,
    item_id text not null,
    primary key (sport_id, item_type, item_id),
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index sport_item_item on sport_item (item_type, item_id);

create table team_item (
    sport_id text not null,
    team_id text not null,
    item_type text not null,
    item_id text not null,
    primary key (sport_id, team_id, item_type, item_id),
    foreign key (sport_id, team_id) references team (sport_id, id) on delete cascade,
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index team_item_item on team_item (item_type, item_id);

create table collection (
    id text primary key,
    content jsonb not null,  -- title, description and any other fields; the items are rows below
    updated_at timestamptz not null default now()
);

create table collection_item (
    collection_id text not null references collection (id) on delete cascade,
    position integer not null,
    item_type text not null,
    item_id text not null,
    primary key (collection_id, position),
    foreign key (item_type, item_id) references item (type, id) on delete cascade
);
create index collection_item_item on collection_item (item_type, item_id);
