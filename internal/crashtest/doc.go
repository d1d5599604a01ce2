// Package crashtest holds the crash test of "nothing lost, nothing reused":
// a child process holds a conversation between two accounts on durable
// SQLite stores and is killed with SIGKILL at random points, many times;
// after every restart the conversation continues, every message the sender
// saw accepted is delivered exactly once, and no message key is used twice.
//
// The package has only tests. Run the long version with
//
//	go test ./internal/crashtest -run TestCrash -crash.rounds=500 -timeout=30m
package crashtest
