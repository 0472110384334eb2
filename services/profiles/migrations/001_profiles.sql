create table profile (
    tenant text not null,
    user_id text not null,
    body jsonb not null,
    version bigint not null,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (tenant, user_id)
);

-- team_id '' is the sport itself; a row per followed team beside it.
create table sport_preference (
    tenant text not null,
    user_id text not null,
    sport_id text not null,
    team_id text not null default '',
    created_at timestamptz not null default now(),
    primary key (tenant, user_id, sport_id, team_id)
);
