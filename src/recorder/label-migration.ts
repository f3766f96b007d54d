/**
 * Schema step for `llmtap run --label`: the label each exchange's run gave itself
 * (its proxy credential, see proxy/run-label.ts). Sessions read their label from
 * their exchanges (indexed by session_id), so the sessions table is unchanged.
 */
export const CLIENT_LABEL_MIGRATION = `
  ALTER TABLE exchanges ADD COLUMN client_label TEXT;
  CREATE INDEX exchanges_client_label ON exchanges (client_label) WHERE client_label IS NOT NULL;
`;
