-- Seed the API client registry. ids are UUIDs; no secrets are stored here,
-- the token_hash column is filled in by the application on first use.
CREATE TABLE IF NOT EXISTS api_clients (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    tenant_id   uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    token_hash  bytea
);

INSERT INTO api_clients (id, name, tenant_id, created_at) VALUES
  ('1d088f89-3eff-4c33-b622-71dd5df9d62e', 'billing-sync', 'acb12b7d-6090-477c-9947-50f3dc0f6e58', now()),
  ('287c7f55-6819-44f8-a5dc-3cbd94aaa3e0', 'ledger-export', '1f5953b4-cb34-4bc9-b6f9-9138ce9e848c', now()),
  ('56f7c367-d015-425b-89d3-e9524a6b9ba8', 'reporting', 'e3c213bb-3283-420d-852c-f2d54f3dbb1e', now()),
  ('16c8e066-6df8-4ab1-9267-35039efdb18c', 'mobile-app', 'e91486ec-4943-42d7-a0ba-dd3861dbd208', now()),
  ('31d9ad73-2228-4fa6-a4a6-99ed909400d4', 'partner-portal', 'e545dfd0-be62-4830-a867-7f30e200d5dd', now());
