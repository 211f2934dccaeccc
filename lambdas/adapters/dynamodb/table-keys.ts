/**
 * Names the DynamoDB tables' schemas share between the adapters, the local tables and the CDK app
 * (which must not load the SDK to synthesise), so they cannot drift apart.
 */

/** The ledger's sparse index of pending messages: (account_id, pending_since). */
export const PENDING_INDEX = 'pending';
/** The tenants table's index of an account's items: (account_id, pk). */
export const BY_ACCOUNT_INDEX = 'by-account';
/** The attribute every table's TTL uses (epoch seconds). */
export const TTL_ATTRIBUTE = 'expires_at';
