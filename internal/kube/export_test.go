package kube

// MaxWriteAttempts is the bound of the retries of one write that lost a race
// with a status update, for the tests that count round trips.
const MaxWriteAttempts = maxWriteAttempts
