create table tenant (
    id text primary key,
    webhook_secret text not null,
    default_webhook_url text,
    created_at timestamptz not null default now()
);

-- A key is stored as its SHA-256; `prefix` (not secret) finds the row, the hash proves the key.
create table api_key (
    prefix text primary key,
    key_hash bytea not null,
    tenant text not null references tenant (id),
    role text not null check (role in ('tenant', 'admin')),
    rate_per_second double precision not null,
    burst integer not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
create index api_key_tenant on api_key (tenant);
