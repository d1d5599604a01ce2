// Package storebench measures what durability costs a conversation: the
// same session-level messages with the in-memory store, the SQLite store,
// and SQLite wrapped in encryption at rest, in one run, so BENCHMARKS.md can
// report ratios. It has only benchmarks and their tests.
package storebench
