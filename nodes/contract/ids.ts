/** A run id: namespace names are pl<run>-<node>, so it stays short (1-8 of [a-z0-9]). */
export const RUN_ID_RE = /^[a-z0-9]{1,8}$/;
